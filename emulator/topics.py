"""kemu's own topics, in two notions with one owner: the **sealed** topics the public AWS APIs (Kinesis, Firehose)
may never touch (:class:`TopicPolicy`, by name), and the topics the live page **shows apart** from the user's
streams (:func:`kemu_topics`, from the settings).

A stream is the Kafka topic of the same name, so without a rule every topic of the cluster would be a stream:
Kafka's own (``__consumer_offsets``, ``__transaction_state``, ``__cluster_metadata``...) and kemu's (the metadata
topics that hold stream and delivery-stream definitions, the backing topics of DirectPut delivery streams). Writing,
deleting or re-creating one of them breaks the broker or kemu for every client, so they are **sealed**:

- a name starting with ``__`` is Kafka's (Kafka reserves the prefix for its internal topics);
- a name starting with ``kemu-`` is kemu's own (every internal topic kemu creates carries it);
- any other topic the endpoint is configured to keep its metadata in (``metadata_topic`` settings).

A sealed topic is never created, described, listed, read, written, deleted or used as a Firehose source through
the APIs, whatever the broker holds: the APIs answer as if it did not exist (``ResourceNotFoundException``), and
CreateStream refuses the name (``InvalidArgumentException``). The rule is by name only, so it holds on a fresh broker
(where ``__consumer_offsets`` does not exist yet) as on a busy one. kemu's own components still use these topics
directly through Kafka; the rule is about what a caller of the APIs can reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from emulator.config.kinesis import KinesisSettings
from emulator.settings import Settings

#: Kafka reserves names starting with two underscores for its internal topics.
KAFKA_INTERNAL_PREFIX = "__"
#: Every internal topic kemu creates starts with this.
KEMU_INTERNAL_PREFIX = "kemu-"


@dataclass(frozen=True, slots=True)
class TopicPolicy:
    """The sealed topics of one endpoint: the reserved prefixes plus its configured internal topics."""

    internal_topics: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *internal_topics: str) -> TopicPolicy:
        return cls(frozenset(internal_topics))

    def is_sealed(self, topic: str) -> bool:
        """True when the APIs must not reach ``topic`` (Kafka's, kemu's, or a configured internal topic)."""
        return (
            topic.startswith(KAFKA_INTERNAL_PREFIX)
            or topic.startswith(KEMU_INTERNAL_PREFIX)
            or topic in self.internal_topics
        )

    def public(self, topics: Iterable[str]) -> list[str]:
        """The topics of ``topics`` the APIs may show, in their order."""
        return [topic for topic in topics if not self.is_sealed(topic)]

    def refusal(self, name: str) -> str:
        """Why CreateStream refuses ``name``, in a sentence that says what to do instead."""
        if name.startswith(KAFKA_INTERNAL_PREFIX):
            why = f"names starting with {KAFKA_INTERNAL_PREFIX!r} are reserved for Kafka's internal topics"
        elif name.startswith(KEMU_INTERNAL_PREFIX):
            why = f"names starting with {KEMU_INTERNAL_PREFIX!r} are reserved for kemu's internal topics"
        else:
            why = "it is the topic this endpoint keeps its own metadata in"
        return f"Stream name {name} is reserved: {why}. Choose another name."


def kemu_topics(settings: Settings) -> frozenset[str]:
    """kemu's own topics as the live page shows them apart from the user's streams: the APIs' metadata and the
    analytics engine's outputs (a query's ``output_topic``, such as ``clickstream-clean``, is a stream of the user's).
    The default names count too: a cluster keeps them from runs with other settings. Not the sealed rule: the
    analytics outputs are kemu's, yet readable through the APIs."""
    found: set[str] = set()
    for source in (settings, Settings.model_construct()):
        outputs = source.analytics.output_topics()
        found |= {
            source.kinesis.metadata_topic,
            source.kinesis.firehose.metadata_topic,
            outputs.results,
            outputs.alerts,
            outputs.late,
            outputs.errors,
            source.serving.results_topic,
            source.serving.alerts_topic,
        }
    return frozenset(found)


def kinesis_settings(settings: Settings) -> KinesisSettings:
    """The endpoint's settings with kemu's own readable topics (:func:`kemu_topics`) left out of ListStreams: a user
    listing streams sees theirs, and reads the analytics outputs by name."""
    unlisted = settings.kinesis.unlisted_topics | kemu_topics(settings)
    return settings.kinesis.model_copy(update={"unlisted_topics": unlisted})


__all__ = ["KAFKA_INTERNAL_PREFIX", "KEMU_INTERNAL_PREFIX", "TopicPolicy", "kemu_topics", "kinesis_settings"]
