// The AWS SDK for JavaScript v3, unchanged, with its default request handler (HTTP/2 for Kinesis), against an
// endpoint: create a 2-shard stream, wait with the SDK's own waiter, put 100 binary records, list the shards, read
// every record back, compare bytes, delete. Prints one JSON line; exits non-zero on any difference or error.
//
//     node roundtrip.mjs ENDPOINT_URL STREAM_NAME
import { randomBytes } from "node:crypto";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";

const [endpoint, streamName] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDNODE", secretAccessKey: "node-secret" },
});

const handler = client.config.requestHandler.constructor.name;
await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
await waitUntilStreamExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: streamName });

// Every byte value appears, and no record is valid UTF-8 text by accident.
const sent = Array.from({ length: 100 }, (_, i) => Buffer.concat([Buffer.from([0xff, i]), randomBytes(62)]));
const put = await client.send(
  new PutRecordsCommand({
    StreamName: streamName,
    Records: sent.map((data, i) => ({ Data: data, PartitionKey: `key-${i}` })),
  }),
);
if (put.FailedRecordCount !== 0) throw new Error(`PutRecords failed ${put.FailedRecordCount} records`);

const shards = (await client.send(new ListShardsCommand({ StreamName: streamName }))).Shards.map((s) => s.ShardId);
const received = [];
for (const shardId of shards) {
  let iterator = (
    await client.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
    )
  ).ShardIterator;
  for (;;) {
    const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const record of page.Records) received.push(Buffer.from(record.Data));
    iterator = page.NextShardIterator;
    if (page.Records.length === 0 && page.MillisBehindLatest === 0) break;
  }
}
await client.send(new DeleteStreamCommand({ StreamName: streamName }));

const key = (b) => b.toString("hex");
const want = sent.map(key).sort();
const got = received.map(key).sort();
const identical = want.length === got.length && want.every((v, i) => v === got[i]);
console.log(JSON.stringify({ handler, shards, sent: sent.length, received: received.length, identical }));
client.destroy();
process.exit(identical ? 0 : 1);
