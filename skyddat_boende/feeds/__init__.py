"""Pull feeds: the service fetches an organisation's availability from the partner's own system."""
