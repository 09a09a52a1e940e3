"""Every API endpoint, in one map: /api/<resource>/, /api/schema/ and /api/docs/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts
from digest import api as digest
from papers import api as papers
from papers import curation_api, list_api


class Router(DefaultRouter):
    # /api/papers/1 and /api/papers/1/ both work: scripts often drop the slash.
    trailing_slash = "/?"


router = Router()
router.register("papers", papers.PaperViewSet, basename="api-paper")
router.register("tags", papers.TagViewSet, basename="api-tag")
router.register("authors", papers.AuthorViewSet, basename="api-author")
router.register("lists", list_api.ReadingListViewSet, basename="api-list")
router.register("shared-lists", list_api.SharedListViewSet, basename="api-shared-list")
router.register("imports", curation_api.ImportRunViewSet, basename="api-import-run")
router.register("paper-tags", curation_api.PaperTagViewSet, basename="api-paper-tag")
router.register("me/searches", accounts.SavedSearchViewSet, basename="api-saved-search")
router.register("me/digests", digest.DigestViewSet, basename="api-digest")
router.register("me/feedback", digest.FeedbackViewSet, basename="api-feedback")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from the drf-spectacular-sidecar package's static files: no CDN.
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("me/", accounts.MeView.as_view(), name="api-me"),
    path("me/follows/", accounts.FollowsView.as_view(), name="api-follows"),
    path("", include(router.urls)),
]
