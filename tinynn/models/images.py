"""What the image models share: taking flat rows as images."""
import math


def as_images(x, channels, op):
    """x as an (N, C, H, W) batch: 4-D input unchanged; flat rows (N, C*S*S), as tinynn's data sets
    hold images, reshaped to square (N, C, S, S)."""
    if x.ndim == 4:
        return x
    side = math.isqrt(x.shape[-1] // channels) if x.ndim == 2 and x.shape[-1] % channels == 0 else 0
    if x.ndim != 2 or channels * side * side != x.shape[-1]:
        raise ValueError(f"{op}: expected (N, {channels}, H, W) images or flat rows (N, {channels}*S*S), "
                         f"got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], channels, side, side)
