"""``{% scroll_region "caption-id" %}<table>…</table>{% endscroll_region %}``: the one wrapper for a table that may be
wider than its box (a table on a laptop zoomed to 150-200%, a facts table on a phone).

The wrapper scrolls sideways on its own, not the page; a keyboard user can only scroll it with the arrow keys if it
can take the focus, so it is a Tab stop (axe: scrollable-region-focusable), and a named region, so that a screen
reader says what was reached: named by the table's caption or heading, whose id is given. Where the table fits (or
is shown as cards on a narrow screen) it does not scroll, and scroll_regions.js takes it out of the Tab order; the
markup says tabindex="0" so that without JavaScript it is on the safe side.
"""

from django import template
from django.utils.html import format_html

register = template.Library()


class ScrollRegionNode(template.Node):
    def __init__(self, labelledby, nodelist):
        self.labelledby, self.nodelist = labelledby, nodelist

    def render(self, context):
        return format_html('<div class="table-responsive" tabindex="0" role="region" data-scroll-region '
                           'aria-labelledby="{}">{}</div>', self.labelledby.resolve(context),
                           self.nodelist.render(context))


@register.tag
def scroll_region(parser, token):
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one argument: the id of the table's caption or heading")
    nodelist = parser.parse(("endscroll_region",))
    parser.delete_first_token()
    return ScrollRegionNode(parser.compile_filter(bits[1]), nodelist)
