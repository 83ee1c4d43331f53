from tally_cli.topics import create_topics, topic_configs, wanted_topics

__all__ = ["create_topics", "topic_configs", "wanted_topics"]
