"""mutbot: measure candidate changes to a deployment pipeline and propose the better ones."""

__version__ = "0.1.0"
