"""Reflectiecirkels (issue 16): composing a year's circles of three or four partner
organisations, the wishes and the first meetings from ``content/circles.yaml``, and
the ``alliantiebot circles`` command."""
