// The AWS SDK for Go v2, unchanged, against an endpoint: create a 2-shard stream, wait with the SDK's waiter, put 100
// binary records, list the shards, read every shard back with GetShardIterator and GetRecords, compare bytes, delete.
// Prints one JSON line; exits non-zero on any difference or error.
//
//	go run . ENDPOINT_URL STREAM_NAME
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func main() {
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
}

func run(endpoint, stream string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDGO", "go-secret", ""),
	})
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		return err
	}
	waiter := kinesis.NewStreamExistsWaiter(client)
	if err := waiter.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, 2*time.Minute); err != nil {
		return err
	}

	var sent []string
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 100; i++ {
		data := make([]byte, 64)
		if _, err := rand.Read(data); err != nil {
			return err
		}
		data[0], data[1] = 0xff, byte(i)
		sent = append(sent, hex.EncodeToString(data))
		entries = append(entries, types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprintf("key-%d", i))})
	}
	put, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		return err
	}
	if aws.ToInt32(put.FailedRecordCount) != 0 {
		return fmt.Errorf("PutRecords failed %d records", aws.ToInt32(put.FailedRecordCount))
	}

	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return err
	}
	var received []string
	for _, shard := range shards.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: shard.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return err
		}
		iterator := it.ShardIterator
		// Until the shard says it has nothing more (millisBehindLatest 0 after an empty page).
		for page := 0; page < 100 && iterator != nil; page++ {
			got, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iterator, Limit: aws.Int32(30)})
			if err != nil {
				return err
			}
			for _, record := range got.Records {
				received = append(received, hex.EncodeToString(record.Data))
			}
			iterator = got.NextShardIterator
			if len(got.Records) == 0 && aws.ToInt64(got.MillisBehindLatest) == 0 {
				break
			}
		}
	}
	if _, err := client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(stream)}); err != nil {
		return err
	}

	sort.Strings(sent)
	sort.Strings(received)
	identical := len(sent) == len(received)
	for i := 0; identical && i < len(sent); i++ {
		identical = sent[i] == received[i]
	}
	out, _ := json.Marshal(map[string]any{"shards": len(shards.Shards), "sent": len(sent), "received": len(received), "identical": identical})
	fmt.Println(string(out))
	if !identical {
		os.Exit(1)
	}
	return nil
}
