from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from papers.models import Paper, Tag


def _page(request, papers):
    return Paginator(papers, settings.PAPERS_PER_PAGE).get_page(request.GET.get("page"))


def home(request):
    page = _page(request, Paper.objects.recent().for_cards())
    return render(request, "papers/home.html", {"page": page})


def paper_detail(request, pk):
    paper = get_object_or_404(Paper.objects.for_cards().prefetch_related("versions"), pk=pk)
    return render(request, "papers/paper_detail.html", {"paper": paper})


def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    page = _page(request, Paper.objects.tagged(tag).recent().for_cards())
    return render(request, "papers/tag_detail.html", {"tag": tag, "page": page})
