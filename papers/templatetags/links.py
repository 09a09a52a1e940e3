from django import template

from papers.sources.jsonish import web_url as _web_url

register = template.Library()


@register.filter
def web_url(value):
    """The address if it is http(s), else "": stored links render as links only then.

    Imports and the admin already refuse other schemes; this keeps a row written some
    other way (a database edit, an old import) from turning into a `javascript:` link.
    """
    return _web_url(value)


@register.simple_tag(takes_context=True)
def page_url(context, number):
    """This page's address with another page number, keeping the search and filters."""
    query = context["request"].GET.copy()
    query["page"] = number
    return f"?{query.urlencode()}"
