"""social-care: a social-media care desk.

The core package knows no platform: connectors translate each platform into
the neutral types of :mod:`social_care.posts`, and everything here works on
those.
"""

__version__ = "0.1.0"
