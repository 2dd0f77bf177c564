"""Running kemu's query files on Apache Flink: a PyFlink environment of its own, and job submission."""
