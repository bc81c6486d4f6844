"""The run spine, one package: what a run is asked (`options`), its fixed setup (`context`),
each side as a state machine (`subject`), the cheap stages (`stages`: policy, apply, build,
tests), proposing (`propose`), paired trials (`measure`), screening, confirmation and the
judge (`evaluate`), and `execute`, which runs them in order and writes the results. The
closed-loop search (mutbot.tune) plugs in between screening and confirmation."""

from mutbot.run.execute import Machinery, execute, write_outputs

__all__ = ["Machinery", "execute", "write_outputs"]
