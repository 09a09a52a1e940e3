from django.urls import path, re_path

from papers import feeds, list_views

# Export formats by file extension: /lists/3/export.bib
_EXPORT = r"export\.(?P<fmt>bib|ris|csv)$"

urlpatterns = [
    path("", list_views.my_lists, name="lists"),
    path("<int:pk>/", list_views.list_detail, name="list"),
    path("<int:pk>/edit/", list_views.edit_list, name="list-edit"),
    path("<int:pk>/share/", list_views.share_list, name="list-share"),
    path("<int:pk>/delete/", list_views.delete_list, name="list-delete"),
    path("<int:pk>/import/", list_views.import_list, name="list-import"),
    re_path(rf"^(?P<pk>[0-9]+)/{_EXPORT}", list_views.export_list, name="list-export"),
    path("<int:pk>/items/<int:item_pk>/", list_views.edit_item, name="list-item"),
    path("<int:pk>/items/<int:item_pk>/move/", list_views.move_item, name="list-item-move"),
    path("<int:pk>/items/<int:item_pk>/remove/", list_views.remove_item, name="list-item-remove"),
    path("<int:pk>/feed.rss", feeds.ListFeed.rss(), name="feed-list-rss"),
    path("<int:pk>/feed.atom", feeds.ListFeed.atom(), name="feed-list-atom"),
    # Unlisted lists open only here, by their secret token.
    path("shared/<str:token>/", list_views.shared_list, name="list-shared"),
    re_path(
        rf"^shared/(?P<token>[\w-]+)/{_EXPORT}", list_views.export_shared, name="list-shared-export"
    ),
    path("save/<int:paper_pk>/", list_views.save_paper, name="save-paper"),
]
