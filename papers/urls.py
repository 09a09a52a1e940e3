from django.urls import path, re_path

from papers import feeds, views

urlpatterns = [
    path("", views.home, name="home"),
    path("trending/", views.trending_papers, name="trending"),
    path("latest/", views.latest, name="latest"),
    re_path(r"^(?P<kind>day|week|month)/(?P<value>[\w-]+)/$", views.period, name="period"),
    path("search/", views.search_page, name="search"),
    path("papers/<int:pk>/", views.paper_detail, name="paper"),
    path("papers/<int:pk>/vote/", views.vote, name="vote"),
    path("tags/", views.tag_index, name="tags"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
    path("tags/<slug:slug>/follow/", views.follow_tag, name="follow-tag"),
    path("authors/<int:pk>/", views.author_detail, name="author"),
    path("authors/<int:pk>/follow/", views.follow_author, name="follow-author"),
    # Feeds: RSS 2.0 and Atom 1.0 of the same items.
    path("feeds/latest.rss", feeds.LatestFeed.rss(), name="feed-latest-rss"),
    path("feeds/latest.atom", feeds.LatestFeed.atom(), name="feed-latest-atom"),
    path("feeds/search.rss", feeds.SearchFeed.rss(), name="feed-search-rss"),
    path("feeds/search.atom", feeds.SearchFeed.atom(), name="feed-search-atom"),
    path("tags/<slug:slug>/feed.rss", feeds.TagFeed.rss(), name="feed-tag-rss"),
    path("tags/<slug:slug>/feed.atom", feeds.TagFeed.atom(), name="feed-tag-atom"),
    path("authors/<int:pk>/feed.rss", feeds.AuthorFeed.rss(), name="feed-author-rss"),
    path("authors/<int:pk>/feed.atom", feeds.AuthorFeed.atom(), name="feed-author-atom"),
]
