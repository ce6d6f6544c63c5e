"""All tables, imported here so metadata (and Alembic) sees every one."""

from shared.models.account import Account
from shared.models.alert import Alert
from shared.models.apikey import ApiKey
from shared.models.article import Article, ArticleSource, StoryBand
from shared.models.delivery import Delivery, DeliveryAttempt
from shared.models.entity import Entity, Mention
from shared.models.feed import Feed, FeedEvent
from shared.models.feedback import WatchFeedback
from shared.models.search import ArticleSearch
from shared.models.seed import SeededItem
from shared.models.subscription import Subscription
from shared.models.trend import TrendEvent
from shared.models.watch import Match, RulesetState, Watch

__all__ = [
    "Account",
    "Alert",
    "ApiKey",
    "Article",
    "ArticleSearch",
    "ArticleSource",
    "Delivery",
    "DeliveryAttempt",
    "Entity",
    "Feed",
    "FeedEvent",
    "Match",
    "Mention",
    "RulesetState",
    "SeededItem",
    "StoryBand",
    "Subscription",
    "TrendEvent",
    "Watch",
    "WatchFeedback",
]
