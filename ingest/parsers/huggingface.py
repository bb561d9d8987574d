"""HuggingFace Hub model info (`/api/models/{repo_id}`) and model cards (README.md) into records."""

from __future__ import annotations

import re
from typing import Any

import markdown
import yaml

from catalog.sanitize import sanitize_html
from ingest.errors import ParseError
from ingest.parsers.common import Obj, clean_text, http_url
from ingest.records import CreatorRecord, FileRecord, ModelRecord, VersionRecord

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
# huggingface_hub's REGEX_YAML_BLOCK: front matter may follow leading blank lines.
FRONT_MATTER = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")
WEIGHT_FORMATS = {
    ".safetensors": "SafeTensor",
    ".ckpt": "PickleTensor",
    ".pt": "PickleTensor",
    ".pth": "PickleTensor",
    ".bin": "PickleTensor",
    ".gguf": "GGUF",
    ".onnx": "ONNX",
}
FOLDER_KINDS = {
    "vae": "VAE",
    "text_encoder": "Text Encoder",
    "text_encoder_2": "Text Encoder",
    "text_encoder_3": "Text Encoder",
    "unet": "UNet",
    "transformer": "Diffusion Model",
    "controlnet": "ControlNet",
    "safety_checker": "Other",
}
# Well-known base repos, spelled as Civitai spells base models; anything else is kept as the repo id says.
BASE_MODELS = {
    "compvis/stable-diffusion-v1-4": "SD 1.4",
    "runwayml/stable-diffusion-v1-5": "SD 1.5",
    "stable-diffusion-v1-5/stable-diffusion-v1-5": "SD 1.5",
    "stabilityai/stable-diffusion-2": "SD 2.0 768",
    "stabilityai/stable-diffusion-2-base": "SD 2.0",
    "stabilityai/stable-diffusion-2-1": "SD 2.1 768",
    "stabilityai/stable-diffusion-2-1-base": "SD 2.1",
    "stabilityai/stable-diffusion-xl-base-1.0": "SDXL 1.0",
    "stabilityai/sdxl-turbo": "SDXL Turbo",
    "black-forest-labs/flux.1-dev": "Flux.1 D",
    "black-forest-labs/flux.1-schnell": "Flux.1 S",
    "stabilityai/stable-diffusion-3-medium-diffusers": "SD 3",
    "stabilityai/stable-diffusion-3.5-large": "SD 3.5",
}


def hf_repo_id_valid(repo_id: str) -> bool:
    return bool(REPO_ID.match(repo_id)) and ".." not in repo_id


def hf_parse_card(raw: bytes, *, source: str) -> tuple[dict[str, Any], str]:
    """A model card: its YAML front matter (a dict, maybe empty) and its Markdown body."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"not UTF-8 text (byte {exc.start})") from None
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as exc:
        raise ParseError(
            source, f"front matter is not valid YAML: {str(exc).splitlines()[0]}", "cardData"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParseError(source, "front matter is not a mapping", "cardData")
    return data, text[match.end() :]


def hf_parse_model(
    data: Any,
    *,
    source: str,
    card: bytes | None = None,
    endpoint: str = "https://huggingface.co",
) -> ModelRecord:
    """One model info response, with the model card's README when there is one."""
    obj = Obj(data, source, "")
    repo_id = obj.text("id", max_length=200) or obj.text("modelId", max_length=200)
    if not repo_id:
        raise obj.error("id", "missing")
    if not hf_repo_id_valid(repo_id):
        raise obj.error("id", f"not a repo id (owner/name): {repo_id!r:.60}")
    card_data: dict[str, Any] = {}
    body = ""
    if card is not None:
        card_data, body = hf_parse_card(card, source=f"{source} (README.md)")
    if isinstance(obj.raw("cardData"), dict):
        card_data = {**card_data, **obj.raw("cardData")}
    tags = _tags(obj, card_data)
    sha = obj.text("sha", max_length=40)
    if sha and not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise obj.error("sha", "not a 40-hex commit id")
    author = obj.text("author", max_length=255) or repo_id.split("/", 1)[0]
    base = endpoint.rstrip("/")
    files = tuple(_files(obj, repo_id, sha or "main", base))
    instance_prompt = card_data.get("instance_prompt")
    trained = (clean_text(instance_prompt),) if isinstance(instance_prompt, str) and instance_prompt else ()
    version = VersionRecord(
        hf_sha=sha,
        name=sha[:7] if sha else "main",
        base_model=_base_model(card_data.get("base_model")),
        trained_words=trained or None,
        source_created_at=obj.datetime("createdAt"),
        source_updated_at=obj.datetime("lastModified"),
        published_at=obj.datetime("createdAt"),
        files=files,
        images=(),
        files_complete=obj.has("siblings"),
        images_complete=False,
    )
    license_name = card_data.get("license_name") or card_data.get("license")
    disabled = obj.bool("disabled")
    return ModelRecord(
        provider="huggingface",
        source_key=repo_id,
        source_url=f"{base}/{repo_id}",
        hf_repo_id=repo_id,
        name=repo_id.split("/", 1)[1],
        type=_type(tags, obj),
        description=sanitize_html(markdown.markdown(body, extensions=["tables", "fenced_code"]))
        if body
        else None,
        creator=CreatorRecord(username=author, provider="huggingface"),
        tags=tags,
        nsfw=("not-for-all-audiences" in {t.lower() for t in tags}) if tags is not None else None,
        license=clean_text(str(license_name))[:255] if license_name else None,
        download_count=obj.int("downloads"),
        thumbs_up_count=obj.int("likes"),
        availability="removed" if disabled else ("active" if disabled is not None else None),
        source_availability=_gated(obj),
        versions=(version,) if sha or files else (),
        versions_complete=False,
    )


def _gated(obj: Obj) -> str | None:
    gated = obj.raw("gated")
    private = obj.raw("private")
    if private is True:
        return "Private"
    if gated in (False, None):
        return "Public" if obj.has("gated") else None
    return f"Gated ({gated})" if isinstance(gated, str) else "Gated"


def _tags(obj: Obj, card_data: dict[str, Any]) -> tuple[str, ...] | None:
    raw = obj.str_list("tags")
    card_tags = card_data.get("tags")
    if raw is None and not isinstance(card_tags, list):
        return None
    tags: list[str] = []
    for tag in list(raw or ()) + [t for t in (card_tags or []) if isinstance(t, str)]:
        tag = clean_text(tag)[:255]
        # Computed tags (license:..., arxiv:..., region:us, base_model:...) say nothing a browser filters by.
        if not tag or ":" in tag or tag in ("endpoints_compatible", "has_space", "region"):
            continue
        if tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tuple(tags)


def _type(tags: tuple[str, ...] | None, obj: Obj) -> str:
    lowered = {t.lower() for t in tags or ()}
    if "lora" in lowered:
        return "LORA"
    if "textual_inversion" in lowered or "textual-inversion" in lowered:
        return "TextualInversion"
    if "controlnet" in lowered:
        return "Controlnet"
    config = obj.raw("config")
    if isinstance(config, dict) and "diffusers" in config:
        return "Checkpoint"
    if obj.text("pipeline_tag") in ("text-to-image", "image-to-image"):
        return "Checkpoint"
    return "Other"


def _base_model(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if not isinstance(value, str) or not value.strip():
        return None
    value = clean_text(value)
    return BASE_MODELS.get(value.lower(), value)[:64]


def _files(obj: Obj, repo_id: str, revision: str, base: str) -> list[FileRecord]:
    files = []
    for sibling in obj.objs("siblings"):
        filename = sibling.str("rfilename", required=True, max_length=1000) or ""
        if filename.startswith("/") or ".." in filename.split("/"):
            raise sibling.error("rfilename", f"not a path inside the repo: {filename!r:.60}")
        suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if suffix not in WEIGHT_FORMATS:
            continue
        folder = filename.split("/", 1)[0] if "/" in filename else ""
        lower = filename.lower()
        lfs = sibling.obj("lfs")
        sha256 = (lfs.str("sha256") or "").upper() if lfs else ""
        size = (lfs.int("size") if lfs else None) or sibling.int("size")
        url = http_url(f"{base}/{repo_id}/resolve/{revision}/{filename}") or ""
        files.append(
            FileRecord(
                name=filename,
                download_url=url,
                kind=FOLDER_KINDS.get(folder, "Model"),
                format=WEIGHT_FORMATS[suffix],
                precision=next((p for p in ("fp16", "bf16", "fp8", "fp32") if p in lower), None),
                size_bytes=size if size is not None and size >= 0 else None,
                is_primary=False,
                hashes={"hash_sha256": sha256, "hash_autov2": sha256[:10]}
                if re.fullmatch(r"[0-9A-F]{64}", sha256)
                else {},
            )
        )

    # The primary file: a weight file at the repo's root (safetensors first); in a diffusers repo with none
    # there, the UNet's (or transformer's) full-precision safetensors; else the first weight file.
    def rank(f: FileRecord) -> tuple[int, int, int, int]:
        at_root = "/" not in f.name
        core = f.kind in ("UNet", "Diffusion Model")
        place = 0 if at_root else 1 if core else 2
        # Variants (fp16, non_ema) have longer names than the plain weights.
        return (place, 0 if f.format == "SafeTensor" else 1, 1 if f.precision else 0, len(f.name))

    pick = min(files, key=rank) if files else None
    return [
        FileRecord(**{**f.__dict__, "is_primary": f is pick}) if f is pick else f  # type: ignore[arg-type]
        for f in files
    ]
