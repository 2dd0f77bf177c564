// KCL 3 with enhanced fan-out (FanOutConfig: it registers its consumer and reads with SubscribeToShard over HTTP/2),
// or in polling mode (PollingConfig: GetShardIterator and GetRecords), against an endpoint, leases in moto's
// DynamoDB, CloudWatch metrics off. Reads a stream from TRIM_HORIZON until it has seen COUNT distinct records (or
// 240 s passed), then prints how many it saw and how many deliveries that took.
//
//     java -cp 'lib/*' KclFanOut.java KINESIS_URL DYNAMODB_URL STREAM COUNT [fanout|polling]
import java.net.URI;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.lifecycle.events.InitializationInput;
import software.amazon.kinesis.lifecycle.events.LeaseLostInput;
import software.amazon.kinesis.lifecycle.events.ProcessRecordsInput;
import software.amazon.kinesis.lifecycle.events.ShardEndedInput;
import software.amazon.kinesis.lifecycle.events.ShutdownRequestedInput;
import software.amazon.kinesis.metrics.MetricsLevel;
import software.amazon.kinesis.processor.ShardRecordProcessor;
import software.amazon.kinesis.processor.ShardRecordProcessorFactory;
import software.amazon.kinesis.retrieval.RetrievalSpecificConfig;
import software.amazon.kinesis.retrieval.fanout.FanOutConfig;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

public class KclFanOut {
  static final Set<String> SEEN = ConcurrentHashMap.newKeySet();
  static final java.util.concurrent.atomic.AtomicInteger DELIVERIES = new java.util.concurrent.atomic.AtomicInteger();

  static class Processor implements ShardRecordProcessor {
    public void initialize(InitializationInput input) {}

    public void processRecords(ProcessRecordsInput input) {
      input.records().forEach(r -> {
        DELIVERIES.incrementAndGet();
        SEEN.add(r.sequenceNumber());
      });
    }

    public void leaseLost(LeaseLostInput input) {}

    public void shardEnded(ShardEndedInput input) {
      try { input.checkpointer().checkpoint(); } catch (Exception e) { throw new RuntimeException(e); }
    }

    public void shutdownRequested(ShutdownRequestedInput input) {}
  }

  public static void main(String[] args) throws Exception {
    URI kinesisUrl = URI.create(args[0]);
    URI dynamoUrl = URI.create(args[1]);
    String stream = args[2];
    int count = Integer.parseInt(args[3]);
    boolean polling = args.length > 4 && args[4].equals("polling");
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDKCL", "kcl-secret"));
    KinesisAsyncClient kinesis = KinesisAsyncClient.builder().endpointOverride(kinesisUrl).region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP2).maxConcurrency(100))
        .build();
    DynamoDbAsyncClient dynamo = DynamoDbAsyncClient.builder().endpointOverride(dynamoUrl).region(Region.US_EAST_1)
        .credentialsProvider(credentials).build();
    CloudWatchAsyncClient cloudWatch = CloudWatchAsyncClient.builder().endpointOverride(dynamoUrl)
        .region(Region.US_EAST_1).credentialsProvider(credentials).build();
    String app = "kcl-fanout-" + UUID.randomUUID().toString().substring(0, 8);
    ShardRecordProcessorFactory factory = Processor::new;
    // Polling reads with GetShardIterator/GetRecords; fan-out registers a consumer and reads with SubscribeToShard.
    RetrievalSpecificConfig retrieval = polling
        ? new PollingConfig(stream, kinesis)
        : new FanOutConfig(kinesis).streamName(stream).applicationName(app);
    ConfigsBuilder configs = new ConfigsBuilder(stream, app, kinesis, dynamo, cloudWatch, app + "-worker", factory);
    Scheduler scheduler = new Scheduler(
        configs.checkpointConfig(),
        configs.coordinatorConfig(),
        configs.leaseManagementConfig(),
        configs.lifecycleConfig(),
        configs.metricsConfig().metricsLevel(MetricsLevel.NONE),
        configs.processorConfig(),
        configs.retrievalConfig()
            .initialPositionInStreamExtended(
                InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON))
            .retrievalSpecificConfig(retrieval));
    Thread worker = new Thread(scheduler);
    worker.setDaemon(true);
    worker.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    while (SEEN.size() < count && System.nanoTime() < deadline) Thread.sleep(200);
    scheduler.startGracefulShutdown().get(60, TimeUnit.SECONDS);
    System.out.printf("{\"records\": %d, \"deliveries\": %d}%n", SEEN.size(), DELIVERIES.get());
    System.exit(SEEN.size() == count ? 0 : 1);
  }
}
