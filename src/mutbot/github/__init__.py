"""The GitHub bot: events, the API edge, pull request bodies and the `mutbot action` command."""
