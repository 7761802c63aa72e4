// A local S3 server for callvault's tests: s3rver (npm @20minutes/s3rver, tests/package.json) on
// 127.0.0.1 with one access key, its buckets created at start, and the checks a real S3 makes
// that s3rver leaves out:
//   - every request must be signed with AWS Signature Version 4 (an `Authorization:
//     AWS4-HMAC-SHA256 ...` header or a presigned `X-Amz-Algorithm=AWS4-HMAC-SHA256` query):
//     s3rver itself serves unsigned requests as anonymous; here they get 403 AccessDenied.
//     s3rver recomputes each signature with the configured secret (wrong secret → 403
//     SignatureDoesNotMatch, unknown key → 403 InvalidAccessKeyId).
//   - ranged GETs as RFC 9110 §14.1.2 says: a suffix range `bytes=-N` is the last N bytes, and
//     `bytes=0-0` is the first byte only (s3rver 4.0.4 reads the first as `0-N` and the second
//     as the whole object).
//   - AbortMultipartUpload (DELETE ?uploadId=): s3rver 4.0.4 answers 405; here the upload's parts
//     are removed and the answer is 204 (404 NoSuchUpload for an unknown upload), after s3rver
//     checked the signature.
//
// Usage (Node >= 20: tests/node_modules/node/bin/node after `npm ci --prefix tests`;
// --openssl-legacy-provider because s3rver's ListObjectsV2 continuation tokens use DES):
//   node --openssl-legacy-provider s3_server.mjs [--address A] --port P --dir DATA --access-key-id K --secret-access-key S --bucket B...
// --address: 127.0.0.1 by default; tests/cluster binds it inside a network namespace it made.
// Prints `listening 127.0.0.1:<port>` on stdout once it accepts connections; exits on SIGTERM or
// SIGINT. Objects live under DATA (kept across restarts). Started by the C++ fixture
// src/storage/testing/s3_server.h.
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');
const S3Error = require('@20minutes/s3rver/lib/models/error');
const S3Object = require('@20minutes/s3rver/lib/models/object');

function parseArgs(argv) {
  const args = { address: '127.0.0.1', port: 0, dir: '', accessKeyId: '', secretAccessKey: '', buckets: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value after ${name}`);
    switch (name) {
      case '--address': args.address = value; break;
      case '--port': args.port = Number(value); break;
      case '--dir': args.dir = value; break;
      case '--access-key-id': args.accessKeyId = value; break;
      case '--secret-access-key': args.secretAccessKey = value; break;
      case '--bucket': args.buckets.push(value); break;
      default: throw new Error(`unknown argument ${name}`);
    }
  }
  if (!args.dir || !args.accessKeyId || !args.secretAccessKey || args.buckets.length === 0) {
    throw new Error('need --dir, --access-key-id, --secret-access-key and at least one --bucket');
  }
  return args;
}

function isSigV4(ctx) {
  const auth = ctx.get('Authorization');
  if (auth) return auth.startsWith('AWS4-HMAC-SHA256 ');
  return ctx.query['X-Amz-Algorithm'] === 'AWS4-HMAC-SHA256';
}

// Rejects anything not signed with SigV4 before s3rver's router sees it.
function requireSignature() {
  return async function requireSignature(ctx, next) {
    if (!isSigV4(ctx)) {
      throw new S3Error('AccessDenied', 'Access Denied: requests must be signed with AWS SigV4');
    }
    return next();
  };
}

// "/bucket/a%20b/c" → ["bucket", "a b/c"] (path-style requests only, which is what tests use).
function bucketAndKey(urlPath) {
  const rest = urlPath.startsWith('/') ? urlPath.slice(1) : urlPath;
  const slash = rest.indexOf('/');
  if (slash <= 0) return [null, null];
  try {
    return [decodeURIComponent(rest.slice(0, slash)), decodeURIComponent(rest.slice(slash + 1))];
  } catch {
    return [null, null];
  }
}

// The suffix length of the GET being served (`bytes=-N`), for getObject below: s3rver's
// controller turns `bytes=-N` into start 0, end N, and the header itself cannot be rewritten
// (it is signed).
const suffixOfRequest = new AsyncLocalStorage();

function noteSuffixRange() {
  return async function noteSuffixRange(ctx, next) {
    const m = /^bytes=-(\d+)$/.exec(ctx.get('Range'));
    if (ctx.method !== 'GET' || !m) return next();
    return suffixOfRequest.run(Number(m[1]), next);
  };
}

// s3rver's FilesystemStore.getObject with RFC 9110 ranges: `end: 0` means the first byte (not
// "to the end"), and a suffix range is the last N bytes.
function fixRanges(store) {
  const original = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const suffix = suffixOfRequest.getStore();
    if (suffix === undefined && (!options || options.end !== 0)) {
      return original(bucket, key, options);
    }
    let metadata;
    try {
      metadata = await store.getMetadata(bucket, key);
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
    const size = Number(metadata['content-length']);
    const range = suffix === undefined ? { start: options.start || 0, end: 0 }
                                       : { start: Math.max(0, size - suffix), end: size - 1 };
    let content = null;
    if (range.start <= range.end && range.end < size && (suffix === undefined || suffix > 0)) {
      content = createReadStream(store.getResourcePath(bucket, key, 'object'), range);
    }
    const object = new S3Object(bucket, key, content, metadata);
    object.range = range;
    return object;
  };
}

// Runs after s3rver's router (and so its signature check): turns its 405 to a signed
// DELETE ?uploadId= into an abort.
function abortMultipartUpload(store) {
  return async function abortMultipartUpload(ctx, next) {
    try {
      await next();
    } catch (err) {
      const uploadId = ctx.query.uploadId;
      if (err.code !== 'MethodNotAllowed' || ctx.method !== 'DELETE' || !ctx.state.methodIsNotAllowed ||
          typeof uploadId !== 'string') {
        throw err;
      }
      const [bucket] = bucketAndKey(ctx.path);
      const dir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
      const known = /^[0-9a-f]+$/.test(uploadId) && (await stat(dir).then(() => true, () => false));
      if (!known) {
        throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
      }
      await rm(dir, { recursive: true, force: true });
      ctx.state.methodIsNotAllowed = false;
      ctx.status = 204;
      ctx.body = null;
    }
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // Only our key: s3rver's built-in S3RVER/S3RVER pair would let a wrong configuration pass.
  for (const id of [...AWSAccount.registry.keys()]) {
    AWSAccount.registry.get(id).revokeAccessKey(id);
  }
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(args.accessKeyId, args.secretAccessKey);

  const server = new S3rver({
    address: args.address,
    port: args.port,
    directory: args.dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: args.buckets.map((name) => ({ name })),
  });
  fixRanges(server.store);
  // Koa runs middleware in array order: these go before s3rver's logger and router.
  server.middleware.unshift(requireSignature(), noteSuffixRange(), abortMultipartUpload(server.store));
  server.on('error', (err) => {
    if (err.status === undefined || err.status >= 500) console.error('s3_server error:', err);
  });

  const address = await server.run();
  console.log(`listening ${address.address}:${address.port}`);

  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    server.httpServer.closeAllConnections?.();
    server.close().then(() => process.exit(0), () => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(`s3_server: ${err.message}`);
  process.exit(2);
});
