// Link-layer decoding (capture/link_layer.h).
#include "capture/link_layer.h"

#include "capture/internal/bytes.h"

namespace callvault::capture {

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr int kMaxVlanTags = 4;

bool IsVlanTag(uint16_t type) { return type == 0x8100 || type == 0x88A8 || type == 0x9100; }

// An ethertype at `off` (after any VLAN tags) → the IP packet's offset.
LinkStatus FromEthertype(std::span<const uint8_t> f, size_t off, LinkFrame* out) {
  if (f.size() < off + 2) return LinkStatus::kTruncated;
  uint16_t type = internal::Be16(f.data() + off);
  for (int i = 0; IsVlanTag(type); ++i) {
    if (i == kMaxVlanTags || f.size() < off + 6) return LinkStatus::kTruncated;
    out->vlan_id = internal::Be16(f.data() + off + 2) & 0x0FFF;
    off += 4;
    type = internal::Be16(f.data() + off);
  }
  off += 2;
  if (type == kEtherIpv4) {
    out->ip_version = 4;
  } else if (type == kEtherIpv6) {
    out->ip_version = 6;
  } else {
    return LinkStatus::kNotIp;
  }
  out->ip_offset = off;
  return LinkStatus::kOk;
}

// Raw IP: the version nibble says which.
LinkStatus FromRaw(std::span<const uint8_t> f, size_t off, LinkFrame* out) {
  if (f.size() <= off) return LinkStatus::kTruncated;
  const uint8_t v = f[off] >> 4;
  if (v != 4 && v != 6) return LinkStatus::kNotIp;
  out->ip_version = v;
  out->ip_offset = off;
  return LinkStatus::kOk;
}

// BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD,
// OpenBSD), 28 (FreeBSD), 30 (macOS).
LinkStatus FromFamily(uint32_t family, std::span<const uint8_t> f, LinkFrame* out) {
  if (family == 2) {
    out->ip_version = 4;
  } else if (family == 10 || family == 24 || family == 28 || family == 30) {
    out->ip_version = 6;
  } else {
    return LinkStatus::kNotIp;
  }
  out->ip_offset = 4;
  if (f.size() <= 4) return LinkStatus::kTruncated;
  return LinkStatus::kOk;
}

}  // namespace

bool IsSupportedLinkType(int dlt) {
  switch (dlt) {
    case kDltNull:
    case kDltEthernet:
    case kDltRaw:
    case kDltRawLinktype:
    case kDltLoop:
    case kDltLinuxSll:
    case kDltIpv4:
    case kDltIpv6:
    case kDltLinuxSll2:
      return true;
    default:
      return false;
  }
}

LinkStatus DecodeLink(int dlt, std::span<const uint8_t> f, LinkFrame* out) {
  *out = LinkFrame{};
  switch (dlt) {
    case kDltEthernet:
      if (f.size() < 14) return LinkStatus::kTruncated;
      return FromEthertype(f, 12, out);
    case kDltLinuxSll:  // type(2) arphrd(2) addr_len(2) addr(8) protocol(2)
      if (f.size() < 16) return LinkStatus::kTruncated;
      return FromEthertype(f, 14, out);
    case kDltLinuxSll2: {  // protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) len(1) addr(8)
      if (f.size() < 20) return LinkStatus::kTruncated;
      const uint16_t type = internal::Be16(f.data());
      if (IsVlanTag(type)) {
        // The tag follows the header, as in SLL v1 (protocol, then TCI and the inner type).
        if (f.size() < 24) return LinkStatus::kTruncated;
        out->vlan_id = internal::Be16(f.data() + 20) & 0x0FFF;
        return FromEthertype(f, 22, out);
      }
      if (type == kEtherIpv4 || type == kEtherIpv6) {
        out->ip_version = type == kEtherIpv4 ? 4 : 6;
        out->ip_offset = 20;
        return LinkStatus::kOk;
      }
      return LinkStatus::kNotIp;
    }
    case kDltNull:
    case kDltLoop: {
      if (f.size() < 4) return LinkStatus::kTruncated;
      const uint32_t be = internal::Be32(f.data());
      const uint32_t le = static_cast<uint32_t>(f[0]) | static_cast<uint32_t>(f[1]) << 8 |
                          static_cast<uint32_t>(f[2]) << 16 | static_cast<uint32_t>(f[3]) << 24;
      // DLT_NULL is in the capturing host's byte order, which a file may not share with us:
      // the family is a small number, so whichever order gives one is right.
      return FromFamily(be < 256 ? be : le, f, out);
    }
    case kDltRaw:
    case kDltRawLinktype:
    case kDltIpv4:
    case kDltIpv6:
      return FromRaw(f, 0, out);
    default:
      return LinkStatus::kUnsupported;
  }
}

}  // namespace callvault::capture
