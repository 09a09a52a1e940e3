import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A reader or curator; the e-mail address is the login."""

    email = models.EmailField("e-mail address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Curators: can use the admin to import and tag papers."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email.split("@")[0]


def _validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/Berlin.")


class Preferences(models.Model):
    """How and when a reader wants their digest, and what they follow."""

    class Frequency(models.TextChoices):
        OFF = "off", "Off"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    digest_frequency = models.CharField(
        max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    digest_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=8, help_text="Local hour (0 to 23) at which the digest is sent."
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[_validate_time_zone])
    digest_size = models.PositiveSmallIntegerField(default=10)
    next_digest_at = models.DateTimeField(null=True, blank=True, db_index=True)
    bounces = models.PositiveSmallIntegerField(
        default=0, help_text="Digests the mail server refused in a row; reset by a delivery."
    )
    paused_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why digests stopped without the reader asking (repeated bounces).",
    )
    followed_tags = models.ManyToManyField("papers.Tag", blank=True, related_name="followers")
    followed_authors = models.ManyToManyField("papers.Author", blank=True, related_name="followers")

    class Meta:
        verbose_name_plural = "preferences"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(digest_hour__lte=23), name="preferences_hour_0_23"
            ),
            models.CheckConstraint(
                condition=models.Q(digest_size__gte=1, digest_size__lte=100),
                name="preferences_size_1_100",
            ),
        ]

    def __str__(self):
        return f"Preferences of {self.user}"


class SavedSearch(models.Model):
    """A search a reader follows: its new matches feed their digest and its feed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=120)
    query = models.CharField(max_length=300, help_text="Web-style words, as typed in search.")
    tag = models.ForeignKey(
        "papers.Tag", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    author = models.CharField(max_length=200, blank=True)
    has_code = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.F("user"), Lower("name"), name="savedsearch_name_unique"
            ),
        ]

    def __str__(self):
        return self.name

    def search_params(self) -> dict:
        """The search page's query string for this search."""
        params = {"q": self.query}
        if self.tag_id:
            params["tag"] = self.tag.slug
        if self.author:
            params["author"] = self.author
        if self.has_code:
            params["code"] = "on"
        return params


class ApiToken(models.Model):
    """A personal key for the REST API. Only its SHA-256 is kept: the token itself is
    shown once, when it is made. Tokens are long random strings, so a fast hash is
    enough (a slow password hash guards guessable secrets, and would cost every call)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “my scripts”.")
    # The token's first characters, shown so a reader can tell their tokens apart.
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
