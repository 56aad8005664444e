"""Configuration: one TOML file, validated on load, every problem reported at once."""

from social_care.config.loading import ConfigError, Problem, load_config
from social_care.config.models import Config
from social_care.config.warnings import config_warnings

__all__ = ["Config", "ConfigError", "Problem", "config_warnings", "load_config"]
