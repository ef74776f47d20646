"""skyddat-boende: national matching of protected housing."""

__version__ = "0.1.0"
