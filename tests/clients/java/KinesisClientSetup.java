// What FanOut.java and RoundTrip.java share, compiled with each of them (tests/support/maven_clients.py): the SDK's
// async Kinesis client for an endpoint, a 2-shard stream holding 100 random binary records, and the comparison of
// the records read back with those sent, printed as the one JSON line the tests read.
import java.net.URI;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;

final class KinesisClientSetup {
  private KinesisClientSetup() {}

  /** The SDK's async Kinesis client for {@code endpoint}, on its Netty transport speaking {@code protocol}. */
  static KinesisAsyncClient client(String endpoint, Protocol protocol) {
    return KinesisAsyncClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDJAVA", "java-secret")))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(protocol))
        .build();
  }

  /**
   * Creates {@code stream} with 2 shards, waits with the SDK's waiter until it exists, and puts 100 random 64-byte
   * records in one PutRecords (the first bytes 0xff and the record's number, so none is valid UTF-8 and each is
   * distinct). Returns what was sent, as hex.
   */
  static List<String> createStreamWithRecords(KinesisAsyncClient kinesis, String stream) throws Exception {
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
    return sent;
  }

  /** A record's data as hex, as {@link #createStreamWithRecords} returns what it sent. */
  static String hex(SdkBytes data) {
    return HexFormat.of().formatHex(data.asByteArray());
  }

  /**
   * Prints {@code {"shards", "sent", "received", "identical"}} as one JSON line; the exit status: 0 when the records
   * received are the records sent, in any order.
   */
  static int report(int shards, List<String> sent, Collection<String> received) {
    List<String> want = new ArrayList<>(sent);
    List<String> got = new ArrayList<>(received);
    want.sort(null);
    got.sort(null);
    boolean identical = want.equals(got);
    System.out.printf("{\"shards\": %d, \"sent\": %d, \"received\": %d, \"identical\": %s}%n",
        shards, sent.size(), got.size(), identical);
    return identical ? 0 : 1;
  }
}
