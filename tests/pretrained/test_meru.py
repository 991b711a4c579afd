"""MERU-family loading: random checkpoints in the released layout, embeddings against a forward
pass written here from MERU's published definitions, refusals, tokenizer."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mmviz.errors import MmvizError
from mmviz.pretrained.meru import ARCHS, load_meru, write_random_checkpoint
from mmviz.pretrained.registry import load_pretrained, spec_for

SOT, EOT = 49406, 49407
CAPTIONS = ["a photo of a cat.", "A dog  running on the BEACH!", "x"]

# --- a reference forward pass, straight from the state dict ----------------------------------


def _ln(x, sd, key):
    return F.layer_norm(x, x.shape[-1:], sd[f"{key}.weight"], sd[f"{key}.bias"], eps=1e-5)


def _attention(x, w_in, b_in, w_out, b_out, heads, causal):
    b, n, width = x.shape
    q, k, v = (t.view(b, n, heads, width // heads).transpose(1, 2) for t in F.linear(x, w_in, b_in).chunk(3, -1))
    scores = q @ k.transpose(-1, -2) / math.sqrt(width // heads)
    if causal:
        scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, width)
    return F.linear(out, w_out, b_out)


def _ref_image_features(sd, pixels, heads, patch=16):
    """timm ViT, [CLS] pooling, LayerNorm eps 1e-5 → visual_proj: (B, embed_dim)."""
    p = "visual."
    x = F.conv2d(pixels, sd[p + "patch_embed.proj.weight"], sd[p + "patch_embed.proj.bias"], stride=patch)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([sd[p + "cls_token"].expand(len(x), -1, -1), x], dim=1) + sd[p + "pos_embed"]
    depth = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith(p + "blocks."))
    for i in range(depth):
        b = f"{p}blocks.{i}."
        x = x + _attention(_ln(x, sd, b + "norm1"), sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"],
                           sd[b + "attn.proj.weight"], sd[b + "attn.proj.bias"], heads, causal=False)
        h = F.gelu(F.linear(_ln(x, sd, b + "norm2"), sd[b + "mlp.fc1.weight"], sd[b + "mlp.fc1.bias"]))
        x = x + F.linear(h, sd[b + "mlp.fc2.weight"], sd[b + "mlp.fc2.bias"])
    return _ln(x, sd, p + "norm")[:, 0] @ sd["visual_proj.weight"].T


def _ref_text_features(sd, tokens, heads):
    """Causal pre-LN transformer, feature at the EOT token (largest id) → textual_proj."""
    p = "textual."
    n = tokens.shape[1]
    x = sd[p + "token_embed.weight"][tokens] + sd[p + "posit_embed"][:n]
    depth = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith(p + "resblocks."))
    for i in range(depth):
        b = f"{p}resblocks.{i}."
        x = x + _attention(_ln(x, sd, b + "ln_1"), sd[b + "attn.in_proj_weight"], sd[b + "attn.in_proj_bias"],
                           sd[b + "attn.out_proj.weight"], sd[b + "attn.out_proj.bias"], heads, causal=True)
        h = F.gelu(F.linear(_ln(x, sd, b + "ln_2"), sd[b + "mlp.c_fc.weight"], sd[b + "mlp.c_fc.bias"]))
        x = x + F.linear(h, sd[b + "mlp.c_proj.weight"], sd[b + "mlp.c_proj.bias"])
    x = _ln(x, sd, p + "ln_final")
    return x[torch.arange(len(x)), tokens.argmax(-1)] @ sd["textual_proj.weight"].T


def _ref_lift(sd, features, side):
    """CLIP: L2-normalise. MERU: v = exp(alpha) f; space = sinh(√c|v|) v / (√c|v|); time first."""
    if "curv" not in sd:
        return features / features.norm(dim=-1, keepdim=True)
    c = sd["curv"].exp()
    v = features * sd[f"{side}_alpha"].exp()
    r = c.sqrt() * v.norm(dim=-1, keepdim=True)
    space = torch.sinh(r) * v / r
    time = torch.sqrt(1 / c + (space**2).sum(-1, keepdim=True))
    return torch.cat([time, space], dim=-1)


def _read(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def _check_against_reference(name, path, vit_heads, text_heads, image_size):
    model = load_pretrained(name, weights=path)
    sd = {k: v.double() if v.is_floating_point() else v for k, v in _read(path)["model"].items()}
    pixels = torch.randn(2, 3, image_size, image_size, generator=torch.Generator().manual_seed(1))
    tokens = model.tokenize(CAPTIONS)
    with torch.no_grad():
        image, text = model.encode_image(pixels), model.encode_text(tokens)
    want_image = _ref_lift(sd, _ref_image_features(sd, pixels.double(), vit_heads), "visual")
    want_text = _ref_lift(sd, _ref_text_features(sd, tokens, text_heads), "textual")
    torch.testing.assert_close(image.double(), want_image, atol=1e-5, rtol=0)
    torch.testing.assert_close(text.double(), want_text, atol=1e-5, rtol=0)
    return model, sd, image, text


@pytest.mark.parametrize("name", ["meru-tiny", "clip-tiny"])
def test_tiny_matches_reference(name, tmp_path):
    arch = ARCHS["tiny"]
    path = write_random_checkpoint(name, tmp_path / f"{name}.pth", seed=3)
    model, sd, image, text = _check_against_reference(name, path, arch.vit_kwargs["num_heads"], arch.text_heads,
                                                      arch.image_size)
    d = arch.embed_dim
    if name.startswith("meru"):
        assert model.geometry == "lorentz" and image.shape == (2, d + 1) and text.shape == (3, d + 1)
        c = math.exp(float(sd["curv"]))
        assert model.curvature == pytest.approx(c) and c != pytest.approx(1.0)
        # on the hyperboloid -x0² + |x|² = -1/c, time coordinate first and positive
        for z in (image, text):
            assert (z[:, 0] > 0).all()
            torch.testing.assert_close(-z[:, 0] ** 2 + (z[:, 1:] ** 2).sum(-1), torch.full((len(z),), -1 / c))
    else:
        assert model.geometry == "sphere" and model.curvature == 1.0 and image.shape == (2, d)
        torch.testing.assert_close(text.norm(dim=-1), torch.ones(3))
    assert model.logit_scale == pytest.approx(1 / 0.07, rel=1e-5)
    assert model.cone_min_radius == 0.1
    assert model.preprocess.size == arch.image_size and model.preprocess.interpolation == "bicubic"
    assert model.preprocess.mean == (0.485, 0.456, 0.406) and model.preprocess.std == (0.229, 0.224, 0.225)


def test_tiny_without_weights_is_seed_zero(tmp_path):
    path = write_random_checkpoint("meru-tiny", tmp_path / "m.pth", seed=0)
    a, b = load_pretrained("meru-tiny"), load_pretrained("meru-tiny", weights=path)
    for (k, va), vb in zip(a.net.state_dict().items(), b.net.state_dict().values()):
        assert torch.equal(va, vb), k


def test_logit_scale_is_clamped_at_100(tmp_path):
    path = tmp_path / "m.pth"
    state = _read(write_random_checkpoint("clip-tiny", path))
    state["model"]["logit_scale"] = torch.tensor(6.0)
    torch.save(state, path)
    assert load_pretrained("clip-tiny", weights=path).logit_scale == pytest.approx(100.0, rel=1e-4)


@pytest.fixture(scope="module")
def meru_vit_s(tmp_path_factory):
    return write_random_checkpoint("meru-vit-s", tmp_path_factory.mktemp("ckpt") / "meru_vit_s.pth", seed=0)


def test_meru_vit_s_matches_reference(meru_vit_s):
    # MERU's published ViT-S is MoCo-v3's (12 heads, not timm's 6); the text tower is L12_W512 (8 heads).
    model, sd, image, text = _check_against_reference("meru-vit-s", meru_vit_s, vit_heads=12, text_heads=8,
                                                      image_size=224)
    assert image.shape == (2, 513) and text.shape == (3, 513)


def _moco_v3_sincos(grid, width):
    """build_timm_vit's table as MERU writes it (meshgrid of w then h, default 'ij' indexing)."""
    grid_w, grid_h = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                                    indexing="ij")
    pos_dim = width // 4
    omega = 1.0 / (10000.0 ** (torch.arange(pos_dim, dtype=torch.float32) / pos_dim))
    out_w = grid_w.flatten()[:, None] * omega[None]
    out_h = grid_h.flatten()[:, None] * omega[None]
    emb = torch.cat([out_w.sin(), out_w.cos(), out_h.sin(), out_h.cos()], dim=1)[None]
    return torch.cat([torch.zeros(1, 1, width), emb], dim=1)


def test_released_key_layout(meru_vit_s):
    ckpt = _read(meru_vit_s)
    assert list(ckpt) == ["model"]
    sd = ckpt["model"]
    shapes = {
        "logit_scale": (), "curv": (), "visual_alpha": (), "textual_alpha": (),
        "pixel_mean": (3, 1, 1), "pixel_std": (3, 1, 1),
        "visual_proj.weight": (512, 384), "textual_proj.weight": (512, 512),
        "visual.cls_token": (1, 1, 384), "visual.pos_embed": (1, 197, 384),
        "visual.patch_embed.proj.weight": (384, 3, 16, 16), "visual.blocks.11.attn.qkv.weight": (1152, 384),
        "visual.blocks.11.mlp.fc2.weight": (384, 1536), "visual.norm.weight": (384,),
        "textual.token_embed.weight": (49408, 512), "textual.posit_embed": (77, 512),
        "textual.attn_mask": (77, 77), "textual.resblocks.11.attn.in_proj_weight": (1536, 512),
        "textual.resblocks.0.attn.out_proj.weight": (512, 512), "textual.resblocks.0.ln_1.weight": (512,),
        "textual.resblocks.0.mlp.c_fc.weight": (2048, 512), "textual.resblocks.0.mlp.c_proj.bias": (512,),
        "textual.ln_final.bias": (512,),
    }
    for key, shape in shapes.items():
        assert tuple(sd[key].shape) == shape, key
    assert not any(k.startswith(("visual.head", "visual.fc_norm", "visual.blocks.12")) for k in sd)
    assert len(sd) == 6 + 4 + 12 * 12 + 2 + 3 + 12 * 12 + 2 + 2  # scalars/buffers, ViT, text, projections
    assert list(sd)[:6] == ["logit_scale", "curv", "visual_alpha", "textual_alpha", "pixel_mean", "pixel_std"]
    assert sd["textual.attn_mask"].dtype == torch.bool and torch.equal(sd["textual.attn_mask"],
                                                                        torch.ones(77, 77, dtype=torch.bool).triu(1))
    torch.testing.assert_close(sd["pixel_mean"].flatten(), torch.tensor([0.485, 0.456, 0.406]))
    torch.testing.assert_close(sd["visual.pos_embed"], _moco_v3_sincos(14, 384))


def test_clip_layout_has_no_hyperbolic_scalars(tmp_path):
    sd = _read(write_random_checkpoint("clip-tiny", tmp_path / "c.pth"))["model"]
    assert "logit_scale" in sd and "visual_proj.weight" in sd
    assert not {"curv", "visual_alpha", "textual_alpha"} & set(sd)


# --- refusals ---------------------------------------------------------------------------------


def test_missing_and_unexpected_keys(tmp_path):
    path = tmp_path / "m.pth"
    state = _read(write_random_checkpoint("meru-tiny", path))
    del state["model"]["curv"], state["model"]["visual.norm.bias"]
    state["model"]["visual.head.weight"] = torch.zeros(3)
    torch.save(state, path)
    with pytest.raises(MmvizError) as err:
        load_pretrained("meru-tiny", weights=path)
    msg = str(err.value)
    assert "MERU tiny (meru-tiny)" in msg and str(path) in msg
    assert "2 missing key(s): curv, visual.norm.bias" in msg and "1 unexpected key(s): visual.head.weight" in msg


def test_clip_file_for_a_meru_names_the_twin(tmp_path):
    path = write_random_checkpoint("clip-tiny", tmp_path / "c.pth")
    with pytest.raises(MmvizError, match="CLIP tiny \\(clip-tiny\\) checkpoint, not meru-tiny; load it as clip-tiny"):
        load_meru("meru-tiny", path)


def test_wrong_shapes(tmp_path):
    path = tmp_path / "m.pth"
    state = _read(write_random_checkpoint("clip-tiny", path))
    state["model"]["visual_proj.weight"] = torch.zeros(16, 64)
    torch.save(state, path)
    with pytest.raises(MmvizError, match=r"not a CLIP tiny \(clip-tiny\) checkpoint; 1 tensor\(s\) have other shapes, "
                                         r"e.g. visual_proj.weight is \(16, 64\) where .* has \(32, 64\)"):
        load_pretrained("clip-tiny", weights=path)


def test_truncated_file(tmp_path):
    path = write_random_checkpoint("meru-tiny", tmp_path / "m.pth")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MmvizError, match="corrupted or truncated"):
        load_pretrained("meru-tiny", weights=path)


class Payload:
    """A class a checkpoint would need to unpickle."""

    def __init__(self):
        self.weight = torch.zeros(2)


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": Payload()}, path)
    with pytest.raises(MmvizError, match="holds more than tensors"):
        load_pretrained("meru-tiny", weights=path)


@pytest.mark.parametrize("name,stem", [("meru-vit-s", "meru_vit_s.pth"), ("clip-vit-l", "clip_vit_l.pth"),
                                       ("hycoclip-vit-b", "hycoclip_vit_b.pth")])
def test_no_weights_for_a_released_model(name, stem):
    with pytest.raises(MmvizError) as err:
        load_pretrained(name)
    msg = str(err.value)
    assert "\n" not in msg and stem in msg and spec_for(name).download in msg


def test_tag_is_refused():
    with pytest.raises(MmvizError, match="not a tag"):
        load_pretrained("meru-tiny", tag="openai")


def test_hycoclip_uses_meru_layout(meru_vit_s):
    # HyCoCLIP subclasses MERU's model without new parameters and saves it with MERU's CheckpointManager.
    model = load_pretrained("hycoclip-vit-s", weights=meru_vit_s)
    assert model.geometry == "lorentz" and model.preprocess.size == 224 and model.name == "hycoclip-vit-s"


# --- tokenizer -----------------------------------------------------------------------------


def test_tokenizer_matches_meru():
    model = load_pretrained("clip-tiny")
    tokens = model.tokenize(CAPTIONS)
    assert tokens.shape == (3, 77) and tokens.dtype == torch.int64
    # [SOT] a photo of a cat . [EOT], right-padded with 0 (CLIP's BPE ids)
    assert tokens[0, :9].tolist() == [SOT, 320, 1125, 539, 320, 2368, 269, EOT, 0]
    # lower-cased, whitespace collapsed
    assert torch.equal(tokens[1], model.tokenize(["a dog running on the beach!"])[0])
    for row in tokens:
        end = int(row.argmax())
        assert row[0] == SOT and row[end] == EOT and (row[end + 1:] == 0).all() and (row[1:end] < SOT).all()
    # too long: cut to 77 with EOT kept in the last place (MERU's encode_text)
    long = model.tokenize(["cat " * 100])[0]
    assert long[0] == SOT and long[76] == EOT and (long[1:76] == 2368).all()
