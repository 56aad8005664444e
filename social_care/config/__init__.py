"""Configuration: one TOML file, validated on load, every problem reported at once."""

from social_care.config.loading import ConfigError, Problem, load_config
from social_care.config.models import Config

__all__ = ["Config", "ConfigError", "Problem", "load_config"]
