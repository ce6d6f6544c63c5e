"""Language id, NER, knowledge base and linker: the entity stage of the pipeline."""

from shared.nlp.extractor import EntityExtractor
from shared.nlp.kb import (
    KBEntity,
    KnowledgeBase,
    KnowledgeBaseError,
    Office,
    OfficeTerm,
    cached_knowledge_base,
)
from shared.nlp.language import detect_language
from shared.nlp.types import ArticleEntities, ArticleInput, ExtractedEntity, article_text

__all__ = [
    "ArticleEntities",
    "ArticleInput",
    "EntityExtractor",
    "ExtractedEntity",
    "KBEntity",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Office",
    "OfficeTerm",
    "article_text",
    "cached_knowledge_base",
    "detect_language",
]
