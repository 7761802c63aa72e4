#!/usr/bin/env python3
"""Test vectors for docs/formats/encrypted-audio.md, written from that page alone (not from the
C++ code), so the unit test that decrypts them (encrypted_file_test.cc, KnownVector*) checks the
documentation and the code against each other.

Deterministic: tenant "t", key id "k", tenant key = 32 zero bytes, data key = bytes 0..31,
wrap nonce = 0x10..0x1b, nonce prefix = a0 a1 a2 a3, plaintext byte i = (7 i + 3) mod 251.

Usage: make_vector.py OUT_DIR   writes vector_<size>.cvenc for each plaintext size below.
Needs python3-cryptography.
"""
import hashlib
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CVENC\r\n\x1a"
CHUNK = 65536
SIZES = [100, 65536, 70000]


def plaintext(n):
    return bytes((7 * i + 3) % 251 for i in range(n))


def encrypt(plain, tenant=b"t", key_id=b"k"):
    tenant_key = bytes(32)
    data_key = bytes(range(32))
    wrap_nonce = bytes(range(0x10, 0x1C))
    prefix = bytes([0xA0, 0xA1, 0xA2, 0xA3])
    size = 21 + len(tenant) + 1 + len(key_id) + 12 + 32 + 16 + 4
    aad = (MAGIC + struct.pack(">HBBII", 1, 1, 0, CHUNK, size) + bytes([len(tenant)]) + tenant +
           bytes([len(key_id)]) + key_id)
    wrapped = AESGCM(tenant_key).encrypt(wrap_nonce, data_key, aad)  # ciphertext ‖ tag
    header = aad + wrap_nonce + wrapped + prefix
    assert len(header) == size
    digest = hashlib.sha256(header).digest()
    out = [header]
    n_chunks = len(plain) // CHUNK + 1  # the final chunk holds len % 65536 bytes, maybe 0
    for i in range(n_chunks):
        final = i == n_chunks - 1
        nonce = prefix + struct.pack(">Q", i)
        chunk_aad = digest + struct.pack(">Q", i) + bytes([1 if final else 0])
        out.append(AESGCM(data_key).encrypt(nonce, plain[i * CHUNK:(i + 1) * CHUNK], chunk_aad))
    return b"".join(out)


def main():
    out_dir = sys.argv[1]
    for n in SIZES:
        with open(os.path.join(out_dir, "vector_%d.cvenc" % n), "wb") as f:
            f.write(encrypt(plaintext(n)))


if __name__ == "__main__":
    main()
