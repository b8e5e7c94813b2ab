"""The strong-Wolfe line search LBFGS uses (Nocedal and Wright, "Numerical Optimization", 2nd ed.,
algorithms 3.5 and 3.6, with safeguarded cubic interpolation as in Schmidt's minFunc), following the steps
and constants of PyTorch's LBFGS(line_search_fn="strong_wolfe")."""
import math

import numpy as np


def cubic_minimizer(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2 (Nocedal and Wright
    eq. 3.59), clamped to `bounds` (default: the interval between x1 and x2):

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2),   d2 = sqrt(d1^2 - g1 g2)
        x = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)     (for x1 <= x2; symmetric otherwise)

    When d1^2 < g1 g2 the cubic has no minimum and the midpoint of the bounds is returned."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1**2 - g1 * g2
    if not disc >= 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def strong_wolfe(evaluate, d, t, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along the descent direction d from x (loss f, gradient g, slope gtd = g.d < 0) meeting
    the strong Wolfe conditions

        f(x + t d) <= f + c1 t g.d              (sufficient decrease, Armijo)
        |grad f(x + t d) . d| <= c2 |g.d|        (curvature)

    `evaluate(t)` returns (loss, flat gradient) at x + t d. First the step grows (cubic extrapolation,
    between 1.01 t and 10 t) until an interval brackets such a point, then the interval shrinks (cubic
    interpolation kept 10% away from its ends) until one is found, the interval is shorter than
    tolerance_change along d, or max_ls evaluations were made. Returns (loss, gradient, t, evaluations)
    of the best point found."""
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals, ls_iter, done = 1, 0, False
    gtd_new = g_new.dot(d)
    prev = (0, f, g, gtd)  # points are (step, loss, gradient, slope along d)
    bracket = None
    while ls_iter < max_ls:  # 1. bracketing
        new = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if gtd_new >= 0:
            bracket = [prev, new]
            break
        t = cubic_minimizer(prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter >= max_ls:
        bracket = [(0, f, g, None), (t, f_new, g_new, None)]

    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient = False
    while not done and ls_iter < max_ls:  # 2. zoom
        (a, fa, _, ga), (b, fb, _, gb) = bracket
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = cubic_minimizer(a, fa, ga, b, fb, gb)
        lo, hi = min(a, b), max(a, b)
        eps = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < eps:  # too close to an end: move 10% inside if that happened twice or t is at an end
            if insufficient or t >= hi or t <= lo:
                t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        new = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = new
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals
