"""Demo and benchmark data: a MAP file export and a matching Salesforce org seed.

``generate(out_dir, people=..., seed=...)`` writes both halves, deterministic by
seed, streaming rows so memory stays flat from a hundred to a million people.
"""

from connector.datagen.generate import DEFAULT_AS_OF, GeneratedData, generate

__all__ = ["DEFAULT_AS_OF", "GeneratedData", "generate"]
