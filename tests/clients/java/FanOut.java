// The AWS SDK for Java v2, unchanged: its async Kinesis client on the default Netty transport (HTTP/2, CBOR), against
// an endpoint: create a 2-shard stream, wait with the SDK's waiter, put 100 binary records, register a consumer,
// SubscribeToShard on every shard (enhanced fan-out) until every record arrived, compare bytes, delete. Prints one
// JSON line; exits non-zero on any difference or error. Compiled with KinesisClientSetup.java:
//
//     javac -cp 'lib/*' -d classes *.java && java -cp 'lib/*:classes' FanOut ENDPOINT_URL STREAM_NAME
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;

public class FanOut {
  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    String stream = args[1];
    try (KinesisAsyncClient kinesis = KinesisClientSetup.client(endpoint, Protocol.HTTP2)) {
      List<String> sent = KinesisClientSetup.createStreamWithRecords(kinesis, stream);
      String streamArn = kinesis.describeStreamSummary(b -> b.streamName(stream)).get()
          .streamDescriptionSummary().streamARN();

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
                  event.records().forEach(r -> received.add(KinesisClientSetup.hex(r.data())));
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

      System.exit(KinesisClientSetup.report(shards.size(), sent, received));
    }
  }
}
