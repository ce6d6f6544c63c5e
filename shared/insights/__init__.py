"""The analyst's read side: alerts by story, stories, entity trends and rising, feed health, the pipeline."""
