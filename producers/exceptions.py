"""Errors of the ``producers`` package. Each says what was wrong and what to do.

ProducerError
├── ProducerConfigError     a configuration that cannot work (bad ratio, unknown stream kind, ...)
└── DeliveryError           Kafka refused or lost contact for longer than the producer's timeouts
"""

from __future__ import annotations


class ProducerError(Exception):
    """Base of every error the producers report."""


class ProducerConfigError(ProducerError):
    """A producer configuration that cannot work."""


class DeliveryError(ProducerError):
    """Events could not be delivered to Kafka."""
