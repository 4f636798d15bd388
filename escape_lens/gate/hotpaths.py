"""Hot paths: which sites the gate judges, from the config and the source directives.

A site is hot if it allocates in a function matched by a `hot` or budget pattern, or
marked `//escape-lens:hot` in source; closures count as their enclosing function.
"""

from __future__ import annotations

from escape_lens.gate.config import Config, enclosing_names
from escape_lens.gate.directives import Directives
from escape_lens.gonames import qualified_name
from escape_lens.records import Report, Site


class HotPaths:
    """Decides which functions are hot, from the config and the source directives."""

    def __init__(self, config: Config, directives: Directives) -> None:
        self.config = config
        self.marked = directives.hot_functions

    def any_configured(self) -> bool:
        """Whether anything at all is hot: a pattern, a budget or a directive."""
        return bool(self.config.hot or self.config.budgets or self.marked)

    def function_of(self, site: Site) -> str:
        """The site's function as patterns see it: qualified, enclosing, no type args."""
        return enclosing_names(qualified_name(site.package, site.function))[-1]

    def is_hot(self, site: Site) -> bool:
        name = qualified_name(site.package, site.function)
        if self.config.is_hot_name(name):
            return True
        return any(n in self.marked for n in enclosing_names(name))


def hot_sites(report: Report, hot: HotPaths) -> list[Site]:
    return [s for s in report.sites if s.allocates and hot.is_hot(s)]
