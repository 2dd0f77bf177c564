// The AWS SDK for Java v2, unchanged: its async Kinesis client on the Netty transport, with the wire protocol and HTTP
// version given (JSON or CBOR; HTTP/1.1 or HTTP/2), against an endpoint: create a 2-shard stream, wait with the SDK's
// waiter, put 100 binary records, list the shards, read every shard back with GetShardIterator and GetRecords,
// compare bytes, delete. Prints one JSON line; exits non-zero on any difference or error.
//
//     java -cp 'lib/*' RoundTrip.java ENDPOINT_URL STREAM_NAME json|cbor HTTP1_1|HTTP2
import java.net.URI;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

public class RoundTrip {
  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    String stream = args[1];
    // The SDK reads this once, when the client is built: "false" makes the Kinesis client speak JSON 1.1.
    System.setProperty("aws.cborEnabled", String.valueOf(args[2].equals("cbor")));
    NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder().protocol(Protocol.valueOf(args[3]));
    try (KinesisAsyncClient kinesis = KinesisAsyncClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDJAVA", "java-secret")))
        .httpClientBuilder(http)
        .build()) {
      kinesis.createStream(b -> b.streamName(stream).shardCount(2)).get();
      kinesis.waiter().waitUntilStreamExists(b -> b.streamName(stream)).get();

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
          response.records().forEach(r -> received.add(HexFormat.of().formatHex(r.data().asByteArray())));
          iterator = response.nextShardIterator();
          if (response.records().isEmpty() && response.millisBehindLatest() == 0) break;
        }
      }
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
