// The AWS SDK for Java v2, unchanged: its async Kinesis client on the default Netty transport (HTTP/2, CBOR), against
// an endpoint: create a 2-shard stream, wait with the SDK's waiter, put 100 binary records, register a consumer,
// SubscribeToShard on every shard (enhanced fan-out) until every record arrived, compare bytes, delete. Prints one
// JSON line; exits non-zero on any difference or error.
//
//     java -cp 'lib/*' FanOut.java ENDPOINT_URL STREAM_NAME
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEventStream;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;

public class FanOut {
  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    String stream = args[1];
    NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP2);
    try (KinesisAsyncClient kinesis = KinesisAsyncClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDJAVA", "java-secret")))
        .httpClientBuilder(http)
        .build()) {
      kinesis.createStream(b -> b.streamName(stream).shardCount(2)).get();
      kinesis.waiter().waitUntilStreamExists(b -> b.streamName(stream)).get();
      String streamArn = kinesis.describeStreamSummary(b -> b.streamName(stream)).get()
          .streamDescriptionSummary().streamARN();

      SecureRandom random = new SecureRandom();
      List<String> sent = new ArrayList<>();
      List<PutRecordsRequestEntry> entries = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        byte[] data = new byte[64];
        random.nextBytes(data);
        data[0] = (byte) 0xff;
        data[1] = (byte) i;
        sent.add(HexFormat.of().formatHex(data));
        entries.add(PutRecordsRequestEntry.builder().data(SdkBytes.fromByteArray(data)).partitionKey("key-" + i).build());
      }
      int failed = kinesis.putRecords(b -> b.streamName(stream).records(entries)).get().failedRecordCount();
      if (failed != 0) throw new IllegalStateException("PutRecords failed " + failed + " records");

      String consumerArn = kinesis.registerStreamConsumer(b -> b.streamARN(streamArn).consumerName("java-fanout"))
          .get().consumer().consumerARN();
      List<Shard> shards = kinesis.listShards(b -> b.streamName(stream)).get().shards();
      ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<>();
      for (Shard shard : shards) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        SubscribeToShardResponseHandler handler = SubscribeToShardResponseHandler.builder()
            .onError(done::completeExceptionally)
            .subscriber(SubscribeToShardResponseHandler.Visitor.builder()
                .onSubscribeToShardEvent((SubscribeToShardEvent event) -> {
                  event.records().forEach(r -> received.add(HexFormat.of().formatHex(r.data().asByteArray())));
                  if (event.millisBehindLatest() == 0 && !done.isDone()) done.complete(null);
                })
                .build())
            .build();
        CompletableFuture<Void> call = kinesis.subscribeToShard(
            b -> b.consumerARN(consumerArn).shardId(shard.shardId())
                .startingPosition(p -> p.type(ShardIteratorType.TRIM_HORIZON)),
            handler);
        done.get(60, TimeUnit.SECONDS);
        call.cancel(true);
      }
      kinesis.deregisterStreamConsumer(b -> b.consumerARN(consumerArn)).get();
      kinesis.deleteStream(b -> b.streamName(stream)).get();

      List<String> want = new ArrayList<>(sent);
      List<String> got = new ArrayList<>(received);
      want.sort(null);
      got.sort(null);
      boolean identical = want.equals(got);
      System.out.printf("{\"shards\": %d, \"sent\": %d, \"received\": %d, \"identical\": %s}%n",
          shards.size(), sent.size(), got.size(), identical);
      System.exit(identical ? 0 : 1);
    }
  }
}
