// The AWS SDK for Java v2, unchanged: its async Kinesis client on the Netty transport, with the wire protocol and HTTP
// version given (JSON or CBOR; HTTP/1.1 or HTTP/2), against an endpoint: create a 2-shard stream, wait with the SDK's
// waiter, put 100 binary records, list the shards, read every shard back with GetShardIterator and GetRecords,
// compare bytes, delete. Prints one JSON line; exits non-zero on any difference or error. Compiled with
// KinesisClientSetup.java:
//
//     javac -cp 'lib/*' -d classes *.java
//     java -cp 'lib/*:classes' RoundTrip ENDPOINT_URL STREAM_NAME json|cbor HTTP1_1|HTTP2
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

public class RoundTrip {
  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    String stream = args[1];
    // The SDK reads this once, when the client is built: "false" makes the Kinesis client speak JSON 1.1.
    System.setProperty("aws.cborEnabled", String.valueOf(args[2].equals("cbor")));
    try (KinesisAsyncClient kinesis = KinesisClientSetup.client(endpoint, Protocol.valueOf(args[3]))) {
      List<String> sent = KinesisClientSetup.createStreamWithRecords(kinesis, stream);

      List<Shard> shards = kinesis.listShards(b -> b.streamName(stream)).get().shards();
      List<String> received = new ArrayList<>();
      for (Shard shard : shards) {
        String iterator = kinesis.getShardIterator(
            b -> b.streamName(stream).shardId(shard.shardId()).shardIteratorType(ShardIteratorType.TRIM_HORIZON))
            .get().shardIterator();
        // Until the shard says it has nothing more (millisBehindLatest 0 after an empty page).
        for (int page = 0; page < 100 && iterator != null; page++) {
          String current = iterator;
          GetRecordsResponse response = kinesis.getRecords(b -> b.shardIterator(current).limit(30)).get();
          response.records().forEach(r -> received.add(KinesisClientSetup.hex(r.data())));
          iterator = response.nextShardIterator();
          if (response.records().isEmpty() && response.millisBehindLatest() == 0) break;
        }
      }
      kinesis.deleteStream(b -> b.streamName(stream)).get();

      System.exit(KinesisClientSetup.report(shards.size(), sent, received));
    }
  }
}
