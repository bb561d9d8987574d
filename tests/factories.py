"""factory_boy factories, in one place. Hashes are derived from a file's (pretend) content, as Civitai does."""

from __future__ import annotations

import hashlib
import zlib

import factory

from catalog.models import Creator, Image, Model, ModelFile, ModelVersion, Tag


class CreatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creator

    username = factory.Sequence(lambda n: f"creator{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Model

    name = factory.Sequence(lambda n: f"Model {n}")
    type = "LORA"
    civitai_id = factory.Sequence(lambda n: 100_000 + n)
    creator = factory.SubFactory(CreatorFactory)
    download_count = factory.Sequence(lambda n: n * 10)


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(ModelFactory)
    civitai_id = factory.Sequence(lambda n: 200_000 + n)
    name = factory.Sequence(lambda n: f"v{n}")
    base_model = "SD 1.5"


def _content(n: int) -> bytes:
    return f"weights of file {n}".encode() * 100


class ModelFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelFile

    version = factory.SubFactory(ModelVersionFactory)
    civitai_id = factory.Sequence(lambda n: 300_000 + n)
    name = factory.Sequence(lambda n: f"file_{n}.safetensors")
    kind = "Model"
    format = "SafeTensor"
    size_bytes = 2_000_000
    is_primary = True
    hash_sha256 = factory.Sequence(lambda n: hashlib.sha256(_content(n)).hexdigest().upper())
    hash_autov2 = factory.LazyAttribute(lambda f: f.hash_sha256[:10])
    hash_crc32 = factory.Sequence(lambda n: format(zlib.crc32(_content(n)), "08X"))


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    version = factory.SubFactory(ModelVersionFactory)
    civitai_id = factory.Sequence(lambda n: 400_000 + n)
    url = factory.LazyAttribute(lambda i: f"https://image.civitai.com/x/y/width=450/{i.civitai_id}.jpeg")
    width = 512
    height = 768
    nsfw_level = 1
    prompt = "a lighthouse at dusk"
