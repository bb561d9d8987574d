"""The catalog's enumerations: the values known today of a model's type, a provider, a model's availability,
Civitai's browsing levels, an image's mirroring and an ingest run's state."""

from django.db import models


class ModelType(models.TextChoices):
    """Civitai's ModelType values known today (unknown ones from a source are kept as they come)."""

    CHECKPOINT = "Checkpoint"
    LORA = "LORA"
    LOCON = "LoCon"
    DORA = "DoRA"
    TEXTUAL_INVERSION = "TextualInversion", "Textual Inversion"
    HYPERNETWORK = "Hypernetwork"
    AESTHETIC_GRADIENT = "AestheticGradient", "Aesthetic Gradient"
    VAE = "VAE"
    CONTROLNET = "Controlnet", "ControlNet"
    UPSCALER = "Upscaler"
    MOTION_MODULE = "MotionModule", "Motion Module"
    POSES = "Poses"
    WILDCARDS = "Wildcards"
    WORKFLOWS = "Workflows"
    OTHER = "Other"


class Provider(models.TextChoices):
    """Where a model's data came from."""

    CIVITAI = "civitai", "Civitai"
    HUGGINGFACE = "huggingface", "Hugging Face"
    MIRROR = "mirror", "Mirror page"
    MANUAL = "manual", "Manual"


class Availability(models.TextChoices):
    """A model's state at its source. The catalog never deletes a model that went away: it marks it."""

    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"
    TAKEN_DOWN = "taken_down", "Taken down"
    REMOVED = "removed", "Removed"


class NsfwLevel(models.IntegerChoices):
    """Civitai's browsing levels (a bitmask on models; one level on an image)."""

    NONE = 0, "Unrated"
    PG = 1, "PG"
    PG13 = 2, "PG-13"
    R = 4, "R"
    X = 8, "X"
    XXX = 16, "XXX"
    BLOCKED = 32, "Blocked"


class MirrorStatus(models.TextChoices):
    """Whether an image has been copied into media storage."""

    PENDING = "pending", "Pending"
    MIRRORED = "mirrored", "Mirrored"
    FAILED = "failed", "Failed"


class IngestRunStatus(models.TextChoices):
    """The life of an ingest run."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly failed"
    FAILED = "failed", "Failed"
