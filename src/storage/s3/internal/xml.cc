#include "storage/s3/internal/xml.h"

#include <charconv>
#include <cstring>
#include <pugixml.hpp>

namespace callvault::storage::s3::internal {
namespace {

// Local name: "s3:Key" → "Key".
std::string_view LocalName(const pugi::xml_node& node) {
  std::string_view name = node.name();
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == name) return c;
  }
  return {};
}

std::string Text(const pugi::xml_node& parent, std::string_view name) {
  return Child(parent, name).child_value();
}

// Parses into `doc`; the root element, or an empty node (never throws: pugixml does not).
pugi::xml_node Root(pugi::xml_document& doc, std::string_view body) {
  const pugi::xml_parse_result r =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) return {};
  return doc.document_element();
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

bool ParseErrorBody(std::string_view body, ErrorBody* out) {
  pugi::xml_document doc;
  const pugi::xml_node root = Root(doc, body);
  if (!root || LocalName(root) != "Error") return false;
  out->code = Text(root, "Code");
  out->message = Text(root, "Message");
  return true;
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  const pugi::xml_node root = Root(doc, body);
  if (!root || LocalName(root) != "ListBucketResult") {
    return InvalidArgumentError("ListObjectsV2 answer is not a <ListBucketResult>");
  }
  ListPage page;
  page.truncated = Text(root, "IsTruncated") == "true";
  page.next_continuation_token = Text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return InvalidArgumentError("ListObjectsV2 answer is truncated without NextContinuationToken");
  }
  for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element || LocalName(c) != "Contents") continue;
    ListedObject obj;
    obj.key = Text(c, "Key");
    obj.etag = Text(c, "ETag");
    const std::string size = Text(c, "Size");
    const auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), obj.size);
    if (obj.key.empty() || ec != std::errc() || ptr != size.data() + size.size()) {
      return InvalidArgumentError("ListObjectsV2 answer has an entry without Key or Size");
    }
    page.objects.push_back(std::move(obj));
  }
  return page;
}

Result<std::string> ParseUploadId(std::string_view body) {
  pugi::xml_document doc;
  const pugi::xml_node root = Root(doc, body);
  std::string id;
  if (root && LocalName(root) == "InitiateMultipartUploadResult") id = Text(root, "UploadId");
  if (id.empty()) return InvalidArgumentError("CreateMultipartUpload answer has no UploadId");
  return id;
}

Result<std::string> ParseCompleteEtag(std::string_view body, ErrorBody* error) {
  pugi::xml_document doc;
  const pugi::xml_node root = Root(doc, body);
  if (root && LocalName(root) == "Error") {
    error->code = Text(root, "Code");
    error->message = Text(root, "Message");
    return std::string();
  }
  if (!root || LocalName(root) != "CompleteMultipartUploadResult") {
    return InvalidArgumentError(
        "CompleteMultipartUpload answer is not a <CompleteMultipartUploadResult>");
  }
  return Text(root, "ETag");
}

std::string CompleteMultipartBody(const std::vector<std::string>& part_etags) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(part_etags[i]) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  return xml;
}

}  // namespace callvault::storage::s3::internal
