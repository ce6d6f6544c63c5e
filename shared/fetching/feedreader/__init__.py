"""The feed reader's parts: decoding and prolog checks, text constructs, the lxml path, the feedparser path.

shared.fetching.feeds is the entry point (`parse_feed`); these modules are its pieces.
"""
