using Trove.Application.Ports;

namespace Trove.Testing;

/// <summary>
/// Procedurally painted, photo-like landscapes (beach at sunset, mountain lake, city at night, …) for screenshots of
/// a library in use: sky gradients, sun and glow, clouds, ridges with haze, water with reflections, trees, buildings,
/// then vignette and grain. Deterministic: the same scene, size and seed always give the same pixels. No photographs
/// are shipped; the README's screenshots are made from these (tests/Trove.Server.Ui.Tests/ReadmeScreenshotTests.cs).
/// </summary>
public static class Scenes
{
    /// <summary>A kind of picture, with the tags and caption a curator would give it.</summary>
    public sealed record Scene(string Name, string Caption, IReadOnlyList<string> Tags, bool Portrait, Action<Canvas, Random> Paint);

    public static IReadOnlyList<Scene> All { get; } =
    [
        new("beach-sunset", "The sun setting over a calm sea, seen from a sandy beach.", ["beach", "sunset", "sea", "sand", "sun", "water"], false, BeachSunset),
        new("alpine-lake", "A clear mountain lake below snowy peaks on a sunny day.", ["mountain", "lake", "snow", "forest", "cloud", "water"], false, AlpineLake),
        new("city-night", "A city skyline at night, its lights reflected in the river.", ["city", "night", "skyline", "building", "river", "reflection"], false, CityNight),
        new("forest-fog", "Sunbeams through fog in a tall forest.", ["forest", "tree", "fog", "sunbeam"], true, ForestFog),
        new("dunes", "Sand dunes under a clear sky.", ["desert", "dune", "sand"], false, Dunes),
        new("meadow", "A lone tree on a green hill in summer, poppies in the grass.", ["meadow", "tree", "hill", "flower", "cloud", "summer"], false, Meadow),
        new("palm-beach", "A palm tree over a turquoise sea on a tropical beach.", ["beach", "palm_tree", "sea", "sand", "summer", "water"], true, PalmBeach),
        new("aurora", "Northern lights over a mountain lake.", ["aurora", "night", "star", "mountain", "lake", "water"], false, Aurora),
        new("misty-hills", "Layers of misty hills at sunrise.", ["hill", "fog", "sunrise", "sun"], false, MistyHills),
        new("lavender", "Rows of lavender running towards the setting sun.", ["field", "lavender", "flower", "sunset", "summer"], false, Lavender),
        new("lighthouse", "A lighthouse on a cliff above the sea.", ["lighthouse", "coast", "cliff", "sea", "cloud", "water"], true, Lighthouse),
        new("autumn-lake", "Autumn trees reflected in a still lake.", ["autumn", "forest", "lake", "reflection", "water"], false, AutumnLake),
    ];

    public static Scene Named(string name) => All.First(s => s.Name == name);

    /// <summary>Paints <paramref name="scene"/> at the given size; <paramref name="seed"/> varies the composition (even seeds are mirrored).</summary>
    public static RgbPixels Render(Scene scene, int width, int height, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var canvas = new Canvas(width, height, seed);
        scene.Paint(canvas, new Random(seed));
        return canvas.Finish(seed, mirror: seed % 2 == 0);
    }

    /// <summary>Writes the scene as a JPEG (1200 × 800, or 800 × 1000 for portrait scenes) and returns the path.</summary>
    public static string WriteJpeg(Scene scene, string folder, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var (w, h) = scene.Portrait ? (800, 1000) : (1200, 800);
        var path = Path.Combine(folder, $"{scene.Name}-{seed}.jpg");
        TestImages.WriteJpeg(path, Render(scene, w, h, seed), quality: 88);
        return path;
    }

    // ---- the scenes. Coordinates: x in [0, aspect], y in [0, 1] from the top. ----

    private static void BeachSunset(Canvas c, Random r)
    {
        var horizon = 0.55 + (r.NextDouble() * 0.04);
        var sun = new P(c.Aspect * (0.35 + (r.NextDouble() * 0.3)), horizon - 0.07);
        var seed = r.Next();
        Rgb[] sky = [new(0.10, 0.11, 0.30), new(0.42, 0.24, 0.45), new(0.92, 0.46, 0.36), new(1.0, 0.70, 0.42), new(1.0, 0.84, 0.58)];
        c.Paint((x, y) =>
        {
            var col = Rgb.Ramp(sky, Math.Clamp(y / horizon, 0, 1));
            col = Sun(col, x, y, sun, 0.032, new Rgb(1.0, 0.96, 0.82), new Rgb(1.0, 0.62, 0.32), c.Px);
            var band = Smooth(0.05, 0.2, y) * (1 - Smooth(0.38, 0.5, y));
            var n = Noise.Fbm((x * 1.6) + 3, y * 11, seed, 5);
            var density = Smooth(0.52, 0.72, n) * band;
            var near = Math.Exp(-Math.Abs(x - sun.X) * 1.6);
            var cloud = Rgb.Lerp(new Rgb(0.30, 0.17, 0.32), new Rgb(1.0, 0.58, 0.42), (near * 0.8) + (y * 0.6));
            return Rgb.Lerp(col, cloud, density * 0.9);
        });

        double Shore(double x) => 0.80 + (0.025 * Math.Sin((x * 2.4) + 1)) + (0.03 * (Noise.Fbm(x * 2, 0.5, seed + 7, 3) - 0.5));
        c.Water(horizon, (x, y, sample) =>
        {
            var t = (y - horizon) / (1 - horizon);
            var dx = (Noise.Fbm(x * 4, y * 90, seed + 1, 3) - 0.5) * 0.05 * t;
            var reflected = sample(x + dx, horizon - ((y - horizon) * 1.3));
            var col = Rgb.Lerp(new Rgb(0.10, 0.08, 0.20), reflected, 0.75 - (0.35 * t));
            var width = 0.04 + (t * 0.25);
            var path = Math.Exp(-Math.Pow((x - sun.X) / width, 2));
            var glitter = Smooth(0.55, 0.8, Noise.Fbm(x * 30, y * 260, seed + 2, 2));
            col += new Rgb(1.0, 0.72, 0.42) * (path * glitter * 0.9);
            return col;
        });

        c.Over((x, y) =>
        {
            var shore = Shore(x);
            var a = Cover(y - shore, c.Px);
            if (a <= 0)
            {
                return (default, 0);
            }

            var d = y - shore;
            var sand = Rgb.Lerp(new Rgb(0.36, 0.25, 0.25), new Rgb(0.62, 0.44, 0.34), Smooth(0, 0.2, d));
            sand *= 0.92 + (0.16 * Noise.Fbm(x * 160, y * 160, seed + 3, 2));
            sand *= 0.95 + (0.05 * Math.Sin((x * 90) + (Noise.Fbm(x * 8, y * 30, seed + 4, 2) * 10)));
            var wet = 1 - Smooth(0.0, 0.035, d);
            sand = Rgb.Lerp(sand, new Rgb(0.55, 0.36, 0.38), wet * 0.6);
            var foam = Math.Exp(-d / 0.004) * Smooth(0.4, 0.7, Noise.Fbm(x * 25, 0.3, seed + 5, 3));
            return (Rgb.Lerp(sand, new Rgb(1.0, 0.86, 0.76), foam), a);
        });
    }

    private static void AlpineLake(Canvas c, Random r)
    {
        var horizon = 0.63;
        var seed = r.Next();
        c.Paint((x, y) =>
        {
            var col = Rgb.Lerp(new Rgb(0.20, 0.42, 0.78), new Rgb(0.72, 0.83, 0.94), Math.Pow(y / horizon, 1.4));
            return Cumulus(col, x, y, seed, 0.05, 0.32, 0.58);
        });

        var far = new Ridge(c, seed + 10, 1.3, horizon - 0.13, 0.30, sharp: true);
        var mid = new Ridge(c, seed + 11, 2.2, horizon - 0.035, 0.12, sharp: true);
        c.Over((x, y) => Mountain(x, y, far, new Rgb(0.50, 0.56, 0.66), 0.45, seed + 12, c.Px, snowLine: 0.07));
        c.Over((x, y) => Mountain(x, y, mid, new Rgb(0.36, 0.33, 0.30), 0.15, seed + 13, c.Px, snowLine: 0.03));
        c.Over((x, y) => Trees(x, y, horizon + 0.004, seed + 14, 0.045, 0.012, new Rgb(0.07, 0.16, 0.10), c.Px));
        c.Water(horizon, (x, y, sample) =>
        {
            var t = (y - horizon) / (1 - horizon);
            var dx = (Noise.Fbm(x * 6, y * 120, seed + 1, 3) - 0.5) * 0.012 * (0.3 + t);
            var reflected = sample(x + dx, horizon - (y - horizon));
            return Rgb.Lerp(reflected * new Rgb(0.75, 0.85, 0.92), new Rgb(0.05, 0.18, 0.25), 0.15 + (0.45 * t));
        });
        c.Over((x, y) =>
        {
            var edge = 0.93 + (0.04 * Noise.Fbm(x * 3, 0.2, seed + 15, 4)) - (0.04 * x / c.Aspect);
            var a = Cover(y - edge, c.Px);
            var grass = Rgb.Lerp(new Rgb(0.12, 0.17, 0.07), new Rgb(0.30, 0.36, 0.13), Noise.Fbm(x * 12, y * 12, seed + 16, 4));
            grass *= 0.7 + (0.5 * Noise.Fbm(x * 300, y * 25, seed + 17, 2));
            var stone = Rgb.Lerp(new Rgb(0.35, 0.33, 0.30), new Rgb(0.62, 0.60, 0.55), Noise.Fbm(x * 40, y * 40, seed + 18, 3));
            var stones = Smooth(0.6, 0.64, Noise.Fbm(x * 14, y * 30, seed + 19, 3)) * (1 - Smooth(edge, edge + 0.04, y));
            return (Rgb.Lerp(grass, stone, stones), a);
        });
    }

    private static void CityNight(Canvas c, Random r)
    {
        var horizon = 0.68;
        var seed = r.Next();
        Rgb[] sky = [new(0.01, 0.02, 0.07), new(0.05, 0.06, 0.16), new(0.18, 0.12, 0.24), new(0.42, 0.22, 0.24)];
        var moon = new P(c.Aspect * 0.82, 0.14);
        c.Paint((x, y) =>
        {
            var col = Rgb.Ramp(sky, Math.Pow(Math.Clamp(y / horizon, 0, 1), 1.5));
            return Sun(col, x, y, moon, 0.022, new Rgb(0.95, 0.93, 0.86), new Rgb(0.25, 0.27, 0.35), c.Px, glow: 0.35);
        });
        c.Stars(r, 60, 0, horizon - 0.25, 0.5);

        var farCity = City.Build(r, c.Aspect, horizon, 0.04, 0.16, 0.03, 0.07);
        var nearCity = City.Build(r, c.Aspect, horizon, 0.08, 0.42, 0.035, 0.09);
        c.Over((x, y) => farCity.Shade(x, y, new Rgb(0.09, 0.08, 0.16), 0.18, 0.6, c.Px));
        c.Over((x, y) => nearCity.Shade(x, y, new Rgb(0.03, 0.035, 0.06), 0.32, 1.0, c.Px));
        c.Water(horizon + 0.012, (x, y, sample) =>
        {
            var t = (y - horizon) / (1 - horizon);
            var dx = (Noise.Fbm(x * 14, y * 160, seed + 1, 3) - 0.5) * 0.012;
            var dy = (Noise.Fbm(x * 3, y * 40, seed + 2, 2) - 0.5) * 0.04;
            var reflected = sample(x + dx, horizon - ((y - horizon) * 0.9) + dy);
            return Rgb.Lerp(reflected * 0.75, new Rgb(0.02, 0.03, 0.06), 0.2 + (0.5 * t));
        });
        c.Over((x, y) =>
        {
            // The embankment with its street lights.
            var d = y - horizon;
            if (d < 0 || d > 0.012)
            {
                return (default, 0);
            }

            var lamp = Math.Exp(-Math.Pow((Frac((x * 40) + 0.3) - 0.5) / 0.06, 2)) * Math.Exp(-Math.Pow((d - 0.002) / 0.002, 2));
            return (new Rgb(0.04, 0.04, 0.05) + (new Rgb(1.0, 0.7, 0.35) * lamp * 1.5), 1);
        });
    }

    private static void ForestFog(Canvas c, Random r)
    {
        var seed = r.Next();
        var fog = new Rgb(0.74, 0.79, 0.72);
        var light = new P(c.Aspect * 0.85, 0.05);
        c.Paint((x, y) =>
        {
            var d = Math.Sqrt(((x - light.X) * (x - light.X)) + ((y - light.Y) * (y - light.Y)));
            return Rgb.Lerp(new Rgb(1.0, 0.97, 0.84), fog, Math.Clamp(d * 1.1, 0, 1));
        });
        c.Over((x, y) =>
        {
            var ground = 0.64 + (0.02 * Noise.Fbm(x * 3, 0.1, seed + 2, 3));
            var a = Smooth(ground - 0.03, ground + 0.02, y);
            var t = Smooth(ground, 1, y);
            var floor = Rgb.Lerp(new Rgb(0.22, 0.24, 0.12), new Rgb(0.42, 0.40, 0.22), Noise.Fbm(x * 25, y * 50, seed + 3, 4));
            return (Rgb.Lerp(fog, floor, 0.25 + (0.75 * t)), a);
        });
        var trunks = Enumerable.Range(0, 70).Select(_ => (X: r.NextDouble() * c.Aspect, Z: Math.Sqrt(r.NextDouble()), Lean: (r.NextDouble() - 0.5) * 0.02, S: r.Next())).OrderByDescending(t => t.Z).ToList();
        foreach (var (tx, z, lean, s) in trunks)
        {
            var width = 0.004 + (Math.Pow(1 - z, 2.2) * 0.07);
            var ground = 0.65 + ((1 - z) * 0.33);
            var col = Rgb.Lerp(new Rgb(0.13, 0.09, 0.06), fog, Math.Pow(z, 1.3) * 0.9);
            c.Over((x, y) =>
            {
                var cx = tx + (lean * (ground - y));
                var half = width * (0.5 + (0.12 * (ground - y))) * (1 + (0.6 * Math.Exp(-(ground - y) / (width * 1.5))));
                var a = Cover(half - Math.Abs(x - cx), c.Px) * Smooth(0, width * 0.4, ground - y);
                if (a <= 0)
                {
                    return (default, 0);
                }

                var bark = 0.8 + (0.4 * Noise.Fbm((x - cx) / width * 6, y * 25, s, 3));
                var side = 0.7 + (0.6 * Math.Clamp((x - cx + half) / (2 * half), 0, 1));
                return (Rgb.Lerp(col * (bark * side), fog, (1 - z) * 0.05), a);
            }, 0, ground + 0.01, tx - 0.1, tx + 0.1);
        }

        c.Over((x, y) =>
        {
            var density = Noise.Fbm(x * 6, y * 9, seed, 5) + 0.3 - (y * 1.6);
            var a = Smooth(0.38, 0.6, density) * (0.75 + (0.25 * Noise.Fbm(x * 90, y * 90, seed + 7, 2)));
            var leaf = Rgb.Lerp(new Rgb(0.08, 0.14, 0.06), new Rgb(0.30, 0.42, 0.16), Noise.Fbm(x * 50, y * 50, seed + 1, 2));
            return (Rgb.Lerp(leaf, fog, Smooth(0.1, 0.35, y) * 0.6), a);
        }, 0, 0.4);
        // Ferns in the foreground: arching fronds of leaflets.
        foreach (var layer in new[] { 0, 1 })
        {
            var mask = c.NewMask();
            for (var f = 0; f < 14; f++)
            {
                var root = new P(r.NextDouble() * c.Aspect, 0.97 + (r.NextDouble() * 0.06));
                for (var k = 0; k < 7; k++)
                {
                    var dir = -Math.PI / 2 + ((r.NextDouble() - 0.5) * 2.4);
                    var length = 0.10 + (r.NextDouble() * 0.12);
                    var prev = root;
                    for (var j = 1; j <= 14; j++)
                    {
                        var t = j / 14.0;
                        var p = new P(root.X + (Math.Cos(dir) * length * t), root.Y + (Math.Sin(dir) * length * t) + (length * 0.9 * t * t));
                        c.Capsule(mask, prev, p, 0.0015, 0.001);
                        double vx = p.X - prev.X, vy = p.Y - prev.Y;
                        var norm = Math.Sqrt((vx * vx) + (vy * vy)) + 1e-9;
                        var leaf = 0.022 * Math.Sin(Math.PI * Math.Min(1, t * 1.2)) + 0.004;
                        foreach (var sgn in new[] { -1.0, 1.0 })
                        {
                            var tip = new P(p.X + (sgn * -vy / norm * leaf) + (vx / norm * leaf * 0.6), p.Y + (sgn * vx / norm * leaf) + (vy / norm * leaf * 0.6));
                            c.Capsule(mask, p, tip, 0.0028, 0.0008);
                        }

                        prev = p;
                    }
                }
            }

            var shade = layer == 0 ? 0.55 : 1.0;
            c.Fill(mask, (x, y) => Rgb.Lerp(new Rgb(0.10, 0.20, 0.05), new Rgb(0.38, 0.52, 0.14), Noise.Fbm(x * 30, y * 30, seed + 6, 3)) * shade);
        }

        var angle = 0.95;
        c.Paint((x, y, col) =>
        {
            var s = (x * Math.Sin(angle)) + (y * Math.Cos(angle));
            var ray = Math.Pow(Noise.Fbm(s * 14, 0.5, seed + 4, 2), 3) * 1.4 * (1 - (y * 0.8));
            return col + (new Rgb(1.0, 0.95, 0.78) * ray * 0.45);
        });
    }

    private static void Dunes(Canvas c, Random r)
    {
        var horizon = 0.46;
        var seed = r.Next();
        c.Paint((x, y) => Rgb.Lerp(new Rgb(0.22, 0.46, 0.80), new Rgb(0.88, 0.84, 0.78), Math.Pow(Math.Clamp(y / horizon, 0, 1), 2.2)));
        for (var i = 0; i < 5; i++)
        {
            var layer = i;
            var baseY = horizon + (i * i * 0.03) + (i * 0.02);
            var freq = 1.6 / (1 + (i * 0.5));
            var amp = 0.03 + (i * 0.035);
            var phase = r.NextDouble() * 10;
            var haze = 0.55 * (1 - (i / 4.0));
            var s = r.Next();
            c.Over((x, y) =>
            {
                var u = (x * freq) + phase + (0.3 * Noise.Fbm(x * 0.8, layer, s, 3));
                var p = Frac(u);
                var profile = p < 0.72 ? Math.Sin(p / 0.72 * Math.PI / 2) : Math.Cos((p - 0.72) / 0.28 * Math.PI / 2);
                var crest = baseY - (amp * profile);
                var a = Cover(y - crest, c.Px);
                if (a <= 0)
                {
                    return (default, 0);
                }

                var lee = p >= 0.72 ? 1.0 : 0.0;
                var below = y - crest;
                var shadow = lee * (1 - Smooth(0.0, amp * 2.5 * (1 - ((p - 0.72) / 0.28)) + 0.002, below));
                var lit = Rgb.Lerp(new Rgb(0.95, 0.70, 0.45), new Rgb(0.80, 0.52, 0.32), Smooth(0, 0.2, below));
                var col = Rgb.Lerp(lit, new Rgb(0.50, 0.28, 0.22), shadow * 0.85);
                col *= 0.96 + (0.06 * Math.Sin((x * 260 * (1 + layer)) + (y * 900) + (Noise.Fbm(x * 10, y * 10, s + 1, 2) * 12)));
                return (Rgb.Lerp(col, new Rgb(0.90, 0.80, 0.72), haze), a);
            });
        }
    }

    private static void Meadow(Canvas c, Random r)
    {
        var horizon = 0.52;
        var seed = r.Next();
        c.Paint((x, y) => Cumulus(Rgb.Lerp(new Rgb(0.22, 0.48, 0.85), new Rgb(0.75, 0.86, 0.96), Math.Pow(y / horizon, 1.3)), x, y, seed, 0.06, 0.42, 0.5));
        var far = new Ridge(c, seed + 1, 1.5, horizon, 0.05, sharp: false);
        c.Over((x, y) => (Rgb.Lerp(new Rgb(0.45, 0.58, 0.62), new Rgb(0.35, 0.50, 0.40), Smooth(0, 0.1, y - far.At(x))), Cover(y - far.At(x), c.Px)));
        var hillTop = new P(c.Aspect * (0.55 + (r.NextDouble() * 0.2)), horizon + 0.02);
        double Hill(double x) => hillTop.Y + (0.25 * Math.Pow((x - hillTop.X) / c.Aspect, 2)) + (0.01 * Noise.Fbm(x * 4, 0.1, seed + 2, 3));
        c.Over((x, y) =>
        {
            var a = Cover(y - Hill(x), c.Px);
            var grass = Rgb.Lerp(new Rgb(0.42, 0.62, 0.20), new Rgb(0.25, 0.45, 0.12), Noise.Fbm(x * 8, y * 8, seed + 3, 4));
            grass *= 0.85 + (0.3 * Noise.Fbm(x * 400, y * 40, seed + 4, 2));
            return (grass, a);
        });

        // The tree: a trunk and a canopy of noisy, shaded lobes.
        var trunkBase = new P(hillTop.X, Hill(hillTop.X) + 0.005);
        var canopy = new P(trunkBase.X, trunkBase.Y - 0.2);
        c.Over((x, y) =>
        {
            var dx = Math.Abs(x - trunkBase.X) - (0.008 + (0.006 * (y - canopy.Y) / 0.2));
            var a = Cover(-dx, c.Px) * Cover(trunkBase.Y - y, c.Px) * Cover(y - canopy.Y, c.Px);
            return (new Rgb(0.22, 0.16, 0.10), a);
        });
        c.Over((x, y) =>
        {
            var dx = (x - canopy.X) / 1.3;
            var dy = y - canopy.Y + 0.02;
            var d = Math.Sqrt((dx * dx) + (dy * dy));
            var edge = 0.12 + (0.04 * (Noise.Fbm(x * 25, y * 25, seed + 5, 4) - 0.5));
            var a = Cover(edge - d, c.Px);
            if (a <= 0)
            {
                return (default, 0);
            }

            var light = Math.Clamp(0.5 - (dx * 3) - (dy * 4) + ((Noise.Fbm(x * 60, y * 60, seed + 6, 3) - 0.5) * 1.4), 0, 1);
            return (Rgb.Lerp(new Rgb(0.07, 0.16, 0.05), new Rgb(0.40, 0.58, 0.18), light), a);
        }, 0, horizon + 0.1);
        c.Over((x, y) =>
        {
            var ground = 0.70 + (0.04 * Math.Sin(x * 2)) + (0.02 * Noise.Fbm(x * 5, 0.1, seed + 7, 3));
            var a = Cover(y - ground, c.Px);
            var grass = Rgb.Lerp(new Rgb(0.30, 0.50, 0.12), new Rgb(0.55, 0.66, 0.22), Noise.Fbm(x * 10, y * 10, seed + 8, 4));
            grass *= 0.75 + (0.45 * Noise.Fbm(x * 500 * y, y * 25, seed + 9, 2));
            return (grass, a);
        });
        var flowers = Enumerable.Range(0, 700).Select(_ => (X: r.NextDouble() * c.Aspect, Y: 0.72 + (Math.Pow(r.NextDouble(), 0.7) * 0.3), Kind: r.Next(10))).ToList();
        foreach (var (fx, fy, kind) in flowers.OrderBy(f => f.Y))
        {
            var size = 0.0015 + ((fy - 0.72) * 0.025);
            var col = kind < 7 ? new Rgb(0.85, 0.12, 0.08) : kind < 9 ? new Rgb(0.98, 0.85, 0.20) : new Rgb(0.97, 0.96, 0.92);
            c.Dot(fx, fy, size, col, 0.95);
        }
    }

    private static void PalmBeach(Canvas c, Random r)
    {
        var horizon = 0.50;
        var seed = r.Next();
        c.Paint((x, y) => Cumulus(Rgb.Lerp(new Rgb(0.14, 0.42, 0.85), new Rgb(0.62, 0.82, 0.97), Math.Pow(y / horizon, 1.2)), x, y, seed, 0.3, 0.47, 0.56));
        double Shore(double x) => 0.74 + (0.02 * Math.Sin((x * 5) + 2)) + (0.02 * Noise.Fbm(x * 3, 0.2, seed + 1, 3)) + (0.06 * x);
        c.Over((x, y) =>
        {
            var a = Cover(y - horizon, c.Px);
            var t = Math.Clamp((y - horizon) / (Shore(x) - horizon), 0, 1);
            var sea = Rgb.Ramp([new(0.04, 0.24, 0.50), new(0.05, 0.42, 0.62), new(0.12, 0.68, 0.70), new(0.55, 0.88, 0.80)], Math.Pow(t, 1.6));
            var wave = Smooth(0.6, 0.8, Noise.Fbm(x * 6, y * 120, seed + 2, 3)) * (0.2 + (0.5 * t));
            sea = Rgb.Lerp(sea, new Rgb(0.85, 0.95, 0.98), wave * 0.5);
            sea += new Rgb(1, 1, 1) * (Smooth(0.8, 0.95, Noise.Fbm(x * 60, y * 400, seed + 3, 2)) * 0.5);
            return (sea, a);
        });
        c.Over((x, y) =>
        {
            var shore = Shore(x);
            var d = y - shore;
            var a = Cover(d, c.Px);
            if (a <= 0)
            {
                return (default, 0);
            }

            var sand = Rgb.Lerp(new Rgb(0.86, 0.78, 0.62), new Rgb(0.97, 0.90, 0.74), Smooth(0, 0.08, d));
            sand *= 0.93 + (0.12 * Noise.Fbm(x * 150, y * 150, seed + 4, 2));
            sand = Rgb.Lerp(sand, new Rgb(0.70, 0.62, 0.50), (1 - Smooth(0, 0.02, d)) * 0.6);
            var foam = Math.Exp(-d / 0.005) * Smooth(0.35, 0.6, Noise.Fbm(x * 30, 0.7, seed + 5, 3));
            return (Rgb.Lerp(sand, new Rgb(1, 1, 1), foam), a);
        });

        // The palm: a curved, ringed trunk and drooping fronds of leaflets.
        var mask = c.NewMask();
        var b0 = new P(c.Aspect * 0.18, 1.05);
        var b1 = new P(c.Aspect * 0.32, 0.55);
        var top = new P(c.Aspect * 0.52, 0.22);
        P Trunk(double t) => new(((1 - t) * (1 - t) * b0.X) + (2 * (1 - t) * t * b1.X) + (t * t * top.X), ((1 - t) * (1 - t) * b0.Y) + (2 * (1 - t) * t * b1.Y) + (t * t * top.Y));
        for (var i = 0; i < 60; i++)
        {
            double t0 = i / 60.0, t1 = (i + 1) / 60.0;
            c.Capsule(mask, Trunk(t0), Trunk(t1), 0.028 - (0.014 * t0), 0.028 - (0.014 * t1));
        }

        c.Fill(mask, (x, y) =>
        {
            var ring = 0.8 + (0.2 * Math.Sin(y * 420));
            return new Rgb(0.42, 0.32, 0.22) * (ring * (0.85 + (0.3 * Noise.Fbm(x * 200, y * 50, seed + 6, 2))));
        });
        var fronds = c.NewMask();
        for (var f = 0; f < 11; f++)
        {
            var dir = (f / 11.0 * Math.PI * 2) + (r.NextDouble() * 0.3);
            var length = 0.20 + (r.NextDouble() * 0.08);
            var droop = 0.6 + (r.NextDouble() * 0.5);
            var prev = top;
            for (var k = 1; k <= 24; k++)
            {
                var t = k / 24.0;
                var p = new P(top.X + (Math.Cos(dir) * length * t * 1.2), top.Y + (Math.Sin(dir) * length * t * 0.55) + (droop * length * t * t));
                c.Capsule(fronds, prev, p, 0.004 * (1 - t) + 0.001, 0.004 * (1 - t) + 0.001);
                var side = new P(p.Y - prev.Y, prev.X - p.X);
                var norm = Math.Sqrt((side.X * side.X) + (side.Y * side.Y)) + 1e-9;
                var leaf = 0.07 * Math.Sin(t * Math.PI) + 0.01;
                foreach (var sgn in new[] { -1.0, 1.0 })
                {
                    var tip = new P(p.X + (sgn * side.X / norm * leaf) + ((p.X - prev.X) * 1.5), p.Y + (sgn * side.Y / norm * leaf) + (0.03 * t) + 0.01);
                    c.Capsule(fronds, p, tip, 0.0035, 0.001);
                }

                prev = p;
            }
        }

        c.Fill(fronds, (x, y) => Rgb.Lerp(new Rgb(0.06, 0.20, 0.08), new Rgb(0.30, 0.50, 0.15), Noise.Fbm(x * 40, y * 40, seed + 7, 3)));
    }

    private static void Aurora(Canvas c, Random r)
    {
        var horizon = 0.68;
        var seed = r.Next();
        c.Paint((x, y) => Rgb.Ramp([new(0.005, 0.01, 0.04), new(0.02, 0.04, 0.09), new(0.05, 0.12, 0.14)], Math.Clamp(y / horizon, 0, 1)));
        c.Stars(r, 420, 0, horizon, 1);
        c.Paint((x, y, col) =>
        {
            var yc = 0.40 + (0.07 * Math.Sin((x * 2.2) + 1)) + (0.16 * (Noise.Fbm(x * 1.1, 0.5, seed, 5) - 0.5));
            var up = yc - y;
            var intensity = up > 0 ? Math.Exp(-up / 0.13) : Math.Exp(up / 0.025);
            var rays = 0.3 + (0.9 * Math.Pow(Noise.Fbm((x * 38) + (y * 4), y * 1.2, seed + 1, 3), 2));
            var strength = Smooth(0.25, 0.65, Noise.Fbm(x * 1.7, 0.2, seed + 8, 3));
            var tint = Rgb.Lerp(new Rgb(0.15, 1.0, 0.50), new Rgb(0.50, 0.22, 0.75), Smooth(0.06, 0.3, up));
            var yc2 = 0.20 + (0.08 * Math.Sin((x * 1.5) + 4));
            var second = Math.Exp(-Math.Abs(y - yc2) / 0.05) * 0.3 * Smooth(0.3, 0.8, Noise.Fbm(x * 2, 0.9, seed + 2, 3));
            return col + (tint * ((intensity * rays * (0.35 + strength)) + second) * 0.8);
        });
        var ridge = new Ridge(c, seed + 3, 1.6, horizon - 0.015, 0.13, sharp: true);
        c.Over((x, y) => Mountain(x, y, ridge, new Rgb(0.05, 0.07, 0.08), 0, seed + 4, c.Px, snowLine: 0.02, snowBrightness: 0.22));
        c.Over((x, y) => Trees(x, y, horizon + 0.003, seed + 6, 0.03, 0.01, new Rgb(0.005, 0.01, 0.012), c.Px));
        c.Water(horizon, (x, y, sample) =>
        {
            var dx = (Noise.Fbm(x * 8, y * 140, seed + 7, 3) - 0.5) * 0.01;
            return sample(x + dx, horizon - (y - horizon)) * 0.7;
        });
    }

    private static void MistyHills(Canvas c, Random r)
    {
        var seed = r.Next();
        var sun = new P(c.Aspect * (0.55 + (r.NextDouble() * 0.2)), 0.30);
        Rgb[] sky = [new(0.42, 0.50, 0.70), new(0.82, 0.70, 0.70), new(1.0, 0.82, 0.62)];
        c.Paint((x, y) => Sun(Rgb.Ramp(sky, Math.Clamp(y / 0.42, 0, 1)), x, y, sun, 0.03, new Rgb(1.0, 0.97, 0.88), new Rgb(1.0, 0.78, 0.50), c.Px, glow: 0.8));
        var haze = new Rgb(0.95, 0.80, 0.68);
        var deep = new Rgb(0.14, 0.15, 0.28);
        for (var i = 0; i < 7; i++)
        {
            var t = i / 6.0;
            var ridge = new Ridge(c, seed + i, 1.2 + (i * 0.5), 0.40 + (i * 0.085), 0.08 + (i * 0.012), sharp: false, detail: 0.0025 * (1 + i));
            var col = Rgb.Lerp(haze, deep, Math.Pow(t, 0.8));
            c.Over((x, y) =>
            {
                var top = ridge.At(x);
                var a = Cover(y - top, c.Px);
                var mist = Smooth(0.0, 0.12, y - top) * (0.45 - (0.3 * t));
                return (Rgb.Lerp(col, haze, mist), a);
            });
        }
    }

    private static void Lavender(Canvas c, Random r)
    {
        var horizon = 0.47;
        var seed = r.Next();
        var sun = new P(c.Aspect * (0.4 + (r.NextDouble() * 0.2)), horizon - 0.04);
        Rgb[] sky = [new(0.20, 0.28, 0.55), new(0.70, 0.45, 0.55), new(1.0, 0.62, 0.38), new(1.0, 0.80, 0.50)];
        c.Paint((x, y) =>
        {
            var col = Sun(Rgb.Ramp(sky, Math.Clamp(y / horizon, 0, 1)), x, y, sun, 0.03, new Rgb(1.0, 0.95, 0.80), new Rgb(1.0, 0.60, 0.30), c.Px);
            var n = Noise.Fbm((x * 1.5) + 2, y * 9, seed, 5);
            return Rgb.Lerp(col, new Rgb(0.95, 0.55, 0.45), Smooth(0.55, 0.75, n) * (1 - Smooth(0.2, 0.35, y)) * 0.8);
        });
        c.Over((x, y) => Trees(x, y, horizon + 0.004, seed + 1, 0.02, 0.008, new Rgb(0.12, 0.08, 0.12), c.Px, density: 0.35));
        var vanish = sun.X;
        c.Over((x, y) =>
        {
            var d = y - horizon;
            var a = Cover(d, c.Px);
            if (a <= 0)
            {
                return (default, 0);
            }

            var u = (x - vanish) / d;
            var row = Frac((u * 1.6) + 0.5);
            var bush = Math.Abs(row - 0.5) * 2;
            var depth = Math.Clamp(d / (1 - horizon), 0, 1);
            var leafNoise = Noise.Fbm(u * 12, 1 / d * 0.5, seed + 2, 3);
            var purple = Rgb.Lerp(new Rgb(0.30, 0.20, 0.50), new Rgb(0.62, 0.45, 0.78), Math.Clamp(leafNoise + ((1 - bush) * 0.3), 0, 1));
            var soil = Rgb.Lerp(new Rgb(0.30, 0.28, 0.16), new Rgb(0.45, 0.38, 0.25), leafNoise);
            var edge = 0.55 + (0.25 * depth) + (0.15 * (leafNoise - 0.5));
            var col = Rgb.Lerp(purple, soil, Smooth(edge - 0.05, edge + 0.05, bush));
            col = Rgb.Lerp(col, new Rgb(0.95, 0.65, 0.55), Math.Exp(-depth / 0.06) * 0.7);
            col *= 0.85 + (0.3 * Math.Exp(-Math.Abs(x - vanish) * 1.5) * (1 - depth));
            return (col, a);
        });
    }

    private static void Lighthouse(Canvas c, Random r)
    {
        var horizon = 0.56;
        var seed = r.Next();
        c.Paint((x, y) => Cumulus(Rgb.Lerp(new Rgb(0.18, 0.40, 0.75), new Rgb(0.70, 0.82, 0.92), Math.Pow(y / horizon, 1.3)), x, y, seed, 0.05, 0.45, 0.52));
        c.Over((x, y) =>
        {
            var a = Cover(y - horizon, c.Px);
            var t = (y - horizon) / (1 - horizon);
            return (Sea(x, t, seed + 1, new Rgb(0.32, 0.48, 0.62), new Rgb(0.04, 0.18, 0.30)), a);
        });
        double CliffTop(double x) => 0.52 + (0.5 * Math.Pow(Math.Max(0, x - (c.Aspect * 0.55)), 1.4)) + (0.015 * Noise.Fbm(x * 6, 0.3, seed + 2, 4));
        double CliffEdge(double y) => (c.Aspect * 0.68) + ((y - 0.5) * 0.15) + (0.05 * (Noise.Fbm(y * 8, 0.6, seed + 3, 4) - 0.5));
        c.Over((x, y) =>
        {
            var top = CliffTop(x);
            var edge = CliffEdge(y);
            var a = Cover(y - top, c.Px) * Cover(edge - x, c.Px);
            if (a <= 0)
            {
                return (default, 0);
            }

            var strata = Noise.Ridged((x * 6) + (Noise.Fbm(x * 3, y * 3, seed + 8, 3) * 0.8), y * 30, seed + 4, 5);
            var blocks = Noise.Ridged(x * 22, y * 9, seed + 9, 4);
            var rock = Rgb.Lerp(new Rgb(0.24, 0.21, 0.18), new Rgb(0.66, 0.60, 0.52), Math.Clamp((strata * 0.7) + (blocks * 0.5) - 0.15, 0, 1));
            rock *= 0.65 + (0.45 * Smooth(0.35, 0, edge - x)) + (0.2 * (Noise.Fbm(x * 60, y * 60, seed + 10, 2) - 0.5));
            var grass = Rgb.Lerp(new Rgb(0.28, 0.42, 0.15), new Rgb(0.45, 0.58, 0.22), Noise.Fbm(x * 50, y * 50, seed + 5, 2));
            var onTop = 1 - Smooth(0.01, 0.03 + (0.02 * Noise.Fbm(x * 20, 0.1, seed + 6, 2)), y - top);
            return (Rgb.Lerp(rock, grass, onTop), a);
        });
        c.Over((x, y) =>
        {
            var edge = CliffEdge(y);
            var foam = Math.Exp(-Math.Max(0, x - edge) / 0.02) * Smooth(0.5, 0.75, Noise.Fbm(x * 30, y * 30, seed + 7, 3)) * Smooth(horizon + 0.1, 0.8, y);
            return (new Rgb(0.92, 0.96, 0.98), x > edge ? foam : 0);
        });

        var lx = c.Aspect * 0.40;
        var baseY = CliffTop(lx) + 0.01;
        var topY = baseY - 0.30;
        c.Over((x, y) =>
        {
            var t = (baseY - y) / (baseY - topY);
            var half = 0.035 - (0.012 * t);
            var a = Cover(half - Math.Abs(x - lx), c.Px) * Cover(baseY - y, c.Px) * Cover(y - topY, c.Px);
            if (a <= 0)
            {
                return (default, 0);
            }

            var band = Frac(t * 4) < 0.5 && t > 0.1 ? new Rgb(0.75, 0.12, 0.10) : new Rgb(0.95, 0.94, 0.90);
            var shade = 0.65 + (0.45 * Smooth(-half, half, x - lx));
            return (band * shade, a);
        });
        c.Over((x, y) =>
        {
            // Lantern room, gallery and cap.
            var dx = Math.Abs(x - lx);
            if (y > topY - 0.004 && y < topY + 0.006 && dx < 0.032)
            {
                return (new Rgb(0.12, 0.12, 0.12), 1);
            }

            if (y > topY - 0.045 && y <= topY - 0.004 && dx < 0.018)
            {
                var glass = Rgb.Lerp(new Rgb(0.95, 0.90, 0.65), new Rgb(0.25, 0.28, 0.30), Smooth(0, 0.018, dx));
                return (Frac((x - lx) * 120) < 0.15 ? new Rgb(0.1, 0.1, 0.1) : glass, 1);
            }

            var capTop = topY - 0.075;
            if (y > capTop && y <= topY - 0.045 && dx < 0.022 * (y - capTop) / 0.03)
            {
                return (new Rgb(0.20, 0.08, 0.07), Cover((0.022 * (y - capTop) / 0.03) - dx, c.Px));
            }

            return (default, 0);
        }, 0, baseY);
    }

    private static void AutumnLake(Canvas c, Random r)
    {
        var horizon = 0.58;
        var seed = r.Next();
        c.Paint((x, y) => Cumulus(Rgb.Lerp(new Rgb(0.35, 0.55, 0.82), new Rgb(0.82, 0.87, 0.92), Math.Pow(y / horizon, 1.2)), x, y, seed, 0.05, 0.3, 0.55));
        Rgb[] leaves = [new(0.78, 0.36, 0.10), new(0.88, 0.58, 0.14), new(0.62, 0.18, 0.08), new(0.86, 0.74, 0.28), new(0.32, 0.40, 0.16), new(0.72, 0.44, 0.14)];
        var hill = new Ridge(c, seed + 1, 1.2, horizon - 0.12, 0.12, sharp: false);
        c.Over((x, y) =>
        {
            // A forested hill: canopy texture in autumn colours, hazier with distance.
            var top = hill.At(x);
            var n = Noise.Fbm(x * 16, y * 16, seed + 2, 3);
            var bumps = Smooth(0.3, 0.72, Noise.Fbm(x * 75, y * 60, seed + 3, 3));
            var col = Rgb.Ramp([leaves[2], leaves[0], leaves[4], leaves[5], leaves[1], leaves[3]], n) * (0.25 + (0.75 * bumps));
            return (Rgb.Lerp(col, new Rgb(0.55, 0.60, 0.68), 0.25 * (1 - Smooth(top, horizon, y))), Cover(y - top, c.Px));
        });
        var crowns = Enumerable.Range(0, 260)
            .Select(_ => (X: r.NextDouble() * c.Aspect, Y: horizon - 0.01 - (Math.Pow(r.NextDouble(), 1.6) * 0.09), R: 0.014 + (r.NextDouble() * 0.02), Col: leaves[r.Next(leaves.Length)] * (0.8 + (r.NextDouble() * 0.3)), S: r.Next()))
            .OrderBy(t => t.Y).ToList();
        foreach (var crown in crowns)
        {
            c.Over((x, y) =>
            {
                var dx = (x - crown.X) / 0.8;
                var dy = (y - crown.Y) / 1.25;
                var d = Math.Sqrt((dx * dx) + (dy * dy));
                var edge = crown.R * (0.8 + (0.45 * Noise.Fbm(x * 60, y * 60, crown.S, 3)));
                var a = Cover(edge - d, c.Px) * Cover(horizon - y, c.Px);
                if (a <= 0)
                {
                    return (default, 0);
                }

                var light = Math.Clamp(0.55 - (dx / crown.R * 0.25) - (dy / crown.R * 0.45) + ((Noise.Fbm(x * 120, y * 120, crown.S + 1, 2) - 0.5) * 1.2), 0, 1);
                return (crown.Col * (0.3 + (0.8 * light)), a);
            }, crown.Y - (crown.R * 1.8), Math.Min(horizon, crown.Y + (crown.R * 1.8)), crown.X - (crown.R * 1.4), crown.X + (crown.R * 1.4));
        }

        c.Water(horizon, (x, y, sample) =>
        {
            var t = (y - horizon) / (1 - horizon);
            var dx = (Noise.Fbm(x * 5, y * 150, seed + 3, 3) - 0.5) * 0.01 * (0.4 + t);
            var reflected = sample(x + dx, horizon - (y - horizon));
            return Rgb.Lerp(reflected * 0.8, new Rgb(0.08, 0.14, 0.18), 0.15 + (0.4 * t));
        });
    }

    // ---- shared pieces ----

    /// <summary>Open water seen in perspective (<paramref name="t"/> from 0 at the horizon to 1 at the bottom): rows of waves with crests.</summary>
    private static Rgb Sea(double x, double t, int seed, Rgb far, Rgb near)
    {
        var distance = 1 / (t + 0.04);
        double n = 0, amp = 0.5, norm = 0, f = 1;
        for (var o = 0; o < 4; o++)
        {
            n += amp * Noise.Value(x * distance * 0.9 * f, distance * 3.5 * f, seed + o);
            norm += amp;
            amp *= 0.5;
            f *= 2.3;
        }

        n /= norm;
        var col = Rgb.Lerp(far, near, Math.Pow(t, 0.45)) * (0.8 + (0.4 * n));
        var crest = Smooth(0.68, 0.8, n) * Smooth(0, 0.3, t);
        return Rgb.Lerp(col, new Rgb(0.85, 0.92, 0.95), crest * 0.55);
    }

    private static Rgb Sun(Rgb sky, double x, double y, P at, double radius, Rgb disc, Rgb glowColour, double px, double glow = 1)
    {
        var d = Math.Sqrt(((x - at.X) * (x - at.X)) + ((y - at.Y) * (y - at.Y)));
        var col = sky + (glowColour * (glow * ((0.55 * Math.Exp(-d / 0.16)) + (0.6 * Math.Exp(-d / (radius * 1.6))))));
        return Rgb.Lerp(col, disc * 1.35, Cover(radius - d, px));
    }

    /// <summary>Puffy clouds between two heights, lit from the upper left.</summary>
    private static Rgb Cumulus(Rgb sky, double x, double y, int seed, double from, double to, double threshold)
    {
        if (y < from - 0.05 || y > to + 0.05)
        {
            return sky;
        }

        var band = Smooth(from - 0.05, from + 0.05, y) * (1 - Smooth(to - 0.08, to, y));
        var n = Noise.Fbm((x * 2.4) + 5, y * 5.5, seed, 6);
        var density = Smooth(threshold, threshold + 0.15, n * band);
        if (density <= 0)
        {
            return sky;
        }

        var lit = n - Noise.Fbm((x * 2.4) + 5.03, (y * 5.5) + 0.05, seed, 6);
        var shade = Math.Clamp(0.75 + (lit * 6) - ((y - from) * 0.8), 0.35, 1.05);
        var cloud = Rgb.Lerp(new Rgb(0.55, 0.60, 0.68), new Rgb(1.0, 1.0, 0.98), shade);
        return Rgb.Lerp(sky, cloud, density);
    }

    private static (Rgb, double) Mountain(double x, double y, Ridge ridge, Rgb rock, double haze, int seed, double px, double snowLine, double snowBrightness = 1)
    {
        var top = ridge.At(x);
        var a = Cover(y - top, px);
        if (a <= 0)
        {
            return (default, 0);
        }

        // Big faces follow the ridge's slope (lit when the ridge rises to the right, light from the left), their
        // edges wander as they run down; small ones come from a ridged bump map.
        var depth = y - top;
        var xs = x + ((Noise.Fbm(x * 2, y * 4, seed + 3, 3) - 0.5) * depth * 1.2);
        var slope = (ridge.At(xs + 0.015) - ridge.At(xs - 0.015)) / 0.03;
        var bump = Noise.Ridged(x * 7, y * 7, seed, 5) - Noise.Ridged((x * 7) + 0.06, (y * 7) + 0.04, seed, 5);
        var light = Math.Clamp(0.72 - (slope * 0.55) + (bump * 2.2), 0.2, 1.35);
        var col = rock * (light * (0.85 + (0.3 * Noise.Fbm(x * 30, y * 30, seed + 1, 3))));
        var snowDepth = snowLine * (0.5 + Noise.Fbm(x * 8, y * 8, seed + 2, 4));
        var snow = (1 - Smooth(snowDepth * 0.6, snowDepth, depth)) * Smooth(-0.9, -0.2, -Math.Abs(slope) + (bump * 4));
        col = Rgb.Lerp(col, new Rgb(0.93, 0.95, 1.0) * (Math.Clamp(light + 0.2, 0.55, 1.1) * snowBrightness), snow);
        return (Rgb.Lerp(col, new Rgb(0.72, 0.80, 0.92), haze), a);
    }

    /// <summary>A line of pine silhouettes standing on <paramref name="ground"/>.</summary>
    private static (Rgb, double) Trees(double x, double y, double ground, int seed, double height, double width, Rgb colour, double px, double density = 1)
    {
        if (y > ground || y < ground - (height * 2.2))
        {
            return (default, 0);
        }

        var best = ground - (height * 0.15);
        var cell = (int)Math.Floor(x / width);
        for (var i = cell - 2; i <= cell + 2; i++)
        {
            if (Noise.Hash(i, 7, seed) > density)
            {
                continue;
            }

            var tx = (i + Noise.Hash(i, 1, seed)) * width;
            var th = height * (0.45 + (1.4 * Noise.Hash(i, 2, seed) * Noise.Hash(i, 4, seed)) + (0.3 * Noise.Hash(i, 5, seed)));
            var tw = width * (0.7 + (0.5 * Noise.Hash(i, 3, seed)));
            var t = Math.Abs(x - tx) / tw;
            if (t < 1)
            {
                var jag = 0.08 * Math.Abs(Math.Sin((ground - y) / th * 28));
                best = Math.Min(best, ground - (th * (1 - t - jag)));
            }
        }

        return (colour, Cover(y - best, px));
    }

    private static double Smooth(double from, double to, double x)
    {
        var t = Math.Clamp((x - from) / (to - from), 0, 1);
        return t * t * (3 - (2 * t));
    }

    /// <summary>Anti-aliased coverage of a signed distance (positive inside), one pixel wide.</summary>
    private static double Cover(double inside, double px) => Math.Clamp((inside / px) + 0.5, 0, 1);

    private static double Frac(double x) => x - Math.Floor(x);

    public readonly record struct P(double X, double Y);

    public readonly record struct Rgb(double R, double G, double B)
    {
        public static Rgb operator +(Rgb a, Rgb b) => new(a.R + b.R, a.G + b.G, a.B + b.B);

        public static Rgb operator *(Rgb a, double k) => new(a.R * k, a.G * k, a.B * k);

        public static Rgb operator *(Rgb a, Rgb b) => new(a.R * b.R, a.G * b.G, a.B * b.B);

        public static Rgb Lerp(Rgb a, Rgb b, double t) => new(a.R + ((b.R - a.R) * t), a.G + ((b.G - a.G) * t), a.B + ((b.B - a.B) * t));

        /// <summary>Evenly spaced colour stops, smoothly interpolated for <paramref name="t"/> in [0, 1].</summary>
        public static Rgb Ramp(Rgb[] stops, double t)
        {
            var f = Math.Clamp(t, 0, 1) * (stops.Length - 1);
            var i = Math.Min((int)f, stops.Length - 2);
            return Lerp(stops[i], stops[i + 1], f - i);
        }
    }

    /// <summary>A mountain or hill line: y of the top for each x (fractal noise; ridged for sharp peaks), tabulated once per pixel column.</summary>
    private sealed class Ridge
    {
        private const double Margin = 0.2;
        private readonly double[] _table;
        private readonly double _step;

        public Ridge(Canvas canvas, int seed, double frequency, double baseline, double amplitude, bool sharp, double detail = 0)
        {
            _step = canvas.Px;
            _table = new double[(int)Math.Ceiling((canvas.Aspect + (2 * Margin)) / _step) + 2];
            for (var k = 0; k < _table.Length; k++)
            {
                var x = (k * _step) - Margin;
                double sum = 0, amp = 1, f = frequency, norm = 0;
                for (var o = 0; o < 6; o++)
                {
                    var n = Noise.Value(x * f, 0.5 + o, seed);
                    sum += amp * (sharp ? 1 - Math.Abs((n * 2) - 1) : n);
                    norm += amp;
                    amp *= 0.5;
                    f *= 2.1;
                }

                var h = sum / norm;
                var fine = detail > 0 ? detail * Noise.Fbm(x * 60, 0.3, seed + 1, 3) : 0;
                _table[k] = baseline - (amplitude * (sharp ? h * h * 1.6 : h * 1.6)) - fine;
            }
        }

        public double At(double x)
        {
            var f = Math.Clamp((x + Margin) / _step, 0, _table.Length - 1.001);
            var k = (int)f;
            return _table[k] + ((_table[k + 1] - _table[k]) * (f - k));
        }
    }

    private sealed class City
    {
        private readonly List<(double X0, double X1, double Top, int Seed, double Lit, bool Spire)> _buildings = [];
        private double _horizon;

        public static City Build(Random r, double aspect, double horizon, double minHeight, double maxHeight, double minWidth, double maxWidth)
        {
            var city = new City { _horizon = horizon };
            var x = -0.02;
            while (x < aspect)
            {
                var w = minWidth + (r.NextDouble() * (maxWidth - minWidth));
                var h = minHeight + (Math.Pow(r.NextDouble(), 1.8) * (maxHeight - minHeight));
                city._buildings.Add((x, x + w, horizon - h, r.Next(), 0.15 + (r.NextDouble() * 0.5), h > maxHeight * 0.7 && r.NextDouble() < 0.5));
                x += w * (0.75 + (r.NextDouble() * 0.35));
            }

            return city;
        }

        public (Rgb, double) Shade(double x, double y, Rgb wall, double windowLight, double haze, double px)
        {
            if (y > _horizon)
            {
                return (default, 0);
            }

            for (var i = _buildings.Count - 1; i >= 0; i--)
            {
                var b = _buildings[i];
                if (x < b.X0 || x > b.X1)
                {
                    continue;
                }

                var mid = (b.X0 + b.X1) / 2;
                if (b.Spire && y < b.Top && y > b.Top - 0.06 && Math.Abs(x - mid) < 0.0018 + ((y - (b.Top - 0.06)) * 0.02))
                {
                    var beacon = y < b.Top - 0.055 ? new Rgb(1.0, 0.15, 0.1) : wall;
                    return (beacon, 1);
                }

                if (y < b.Top)
                {
                    continue;
                }

                var lx = (x - b.X0) / 0.0075;
                var ly = (y - b.Top) / 0.011;
                int wx = (int)Math.Floor(lx), wy = (int)Math.Floor(ly);
                var inWindow = Frac(lx) > 0.25 && Frac(lx) < 0.8 && Frac(ly) > 0.3 && Frac(ly) < 0.8 && ly > 0.6 && x < b.X1 - 0.004;
                var col = wall * (0.8 + (0.4 * (x - b.X0) / (b.X1 - b.X0)));
                if (inWindow && Noise.Hash(wx, wy, b.Seed) < b.Lit)
                {
                    var kind = Noise.Hash(wx, wy, b.Seed + 1);
                    var light = kind < 0.6 ? new Rgb(1.0, 0.80, 0.48) : kind < 0.85 ? new Rgb(1.0, 0.95, 0.85) : new Rgb(0.65, 0.80, 1.0);
                    col = light * (windowLight + (Noise.Hash(wx, wy, b.Seed + 2) * windowLight * 2));
                }

                var edge = Cover(Math.Min(x - b.X0, b.X1 - x), px) * Cover(y - b.Top, px);
                return (Rgb.Lerp(col, new Rgb(0.25, 0.15, 0.22), haze * 0.35), edge);
            }

            return (default, 0);
        }
    }

    /// <summary>Gradient noise and fractal sums of it, in [0, 1].</summary>
    private static class Noise
    {
        public static double Hash(int x, int y, int seed)
        {
            unchecked
            {
                var h = ((uint)x * 374761393u) + ((uint)y * 668265263u) + ((uint)seed * 2246822519u);
                h = (h ^ (h >> 13)) * 1274126177u;
                h ^= h >> 16;
                return h / 4294967296.0;
            }
        }

        public static double Value(double x, double y, int seed)
        {
            var xf = Math.Floor(x);
            var yf = Math.Floor(y);
            int xi = (int)xf, yi = (int)yf;
            double tx = x - xf, ty = y - yf;
            var u = tx * tx * tx * ((tx * ((tx * 6) - 15)) + 10);
            var v = ty * ty * ty * ((ty * ((ty * 6) - 15)) + 10);
            var a = Grad(xi, yi, seed, tx, ty);
            var b = Grad(xi + 1, yi, seed, tx - 1, ty);
            var c = Grad(xi, yi + 1, seed, tx, ty - 1);
            var d = Grad(xi + 1, yi + 1, seed, tx - 1, ty - 1);
            var n = a + ((b - a) * u) + ((c - a) * v) + ((a - b - c + d) * u * v);
            return Math.Clamp(0.5 + (n * 0.75), 0, 1);
        }

        /// <summary>Fractal sum of folded noise: sharp crests, like rock.</summary>
        public static double Ridged(double x, double y, int seed, int octaves)
        {
            double sum = 0, amp = 0.5, norm = 0;
            for (var o = 0; o < octaves; o++)
            {
                var n = 1 - Math.Abs((Value(x, y, seed + o) * 2) - 1);
                sum += amp * n * n;
                norm += amp;
                amp *= 0.5;
                (x, y) = ((x * 1.7) + (y * 1.1) + 9.3, (y * 1.7) - (x * 1.1) + 1.9);
            }

            return sum / norm;
        }

        public static double Fbm(double x, double y, int seed, int octaves)
        {
            double sum = 0, amp = 0.5, norm = 0;
            for (var o = 0; o < octaves; o++)
            {
                sum += amp * Value(x, y, seed + o);
                norm += amp;
                amp *= 0.5;
                (x, y) = ((x * 1.6) + (y * 1.2) + 17.1, (y * 1.6) - (x * 1.2) + 3.7);
            }

            return sum / norm;
        }

        private static readonly (double X, double Y)[] Gradients = [.. Enumerable.Range(0, 16).Select(i => (Math.Cos(i * Math.PI / 8), Math.Sin(i * Math.PI / 8)))];

        private static double Grad(int x, int y, int seed, double dx, double dy)
        {
            var g = Gradients[(int)(Hash(x, y, seed) * 16) & 15];
            return (g.X * dx) + (g.Y * dy);
        }
    }

    /// <summary>Floating-point RGB pixels that scenes are painted on, row-parallel.</summary>
    public sealed class Canvas
    {
        private readonly float[] _rgb;
        private readonly int _seed;

        public Canvas(int width, int height, int seed)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(width, 8);
            ArgumentOutOfRangeException.ThrowIfLessThan(height, 8);
            Width = width;
            Height = height;
            _seed = seed;
            _rgb = new float[width * height * 3];
        }

        public int Width { get; }

        public int Height { get; }

        /// <summary>Width over height: x runs from 0 to this, y from 0 (top) to 1.</summary>
        public double Aspect => (double)Width / Height;

        /// <summary>One pixel in scene units.</summary>
        public double Px => 1.0 / Height;

        public void Paint(Func<double, double, Rgb> colour) => Paint((x, y, _) => colour(x, y));

        public void Paint(Func<double, double, Rgb, Rgb> colour) => Rows(0, Height, (row, y) =>
        {
            for (var i = 0; i < Width; i++)
            {
                var x = (i + 0.5) / Height;
                Set(row, i, colour(x, y, Get(row, i)));
            }
        });

        /// <summary>Composites a layer (colour, coverage) between two heights.</summary>
        public void Over(Func<double, double, (Rgb Colour, double Alpha)> layer, double top = 0, double bottom = 1, double left = double.NegativeInfinity, double right = double.PositiveInfinity)
        {
            var from = Math.Clamp((int)Math.Floor(top * Height) - 1, 0, Height);
            var to = Math.Clamp((int)Math.Ceiling(bottom * Height) + 1, 0, Height);
            var first = (int)Math.Clamp(Math.Floor(left * Height) - 1, 0, Width);
            var last = (int)Math.Clamp(Math.Ceiling(right * Height) + 1, 0, Width);
            Rows(from, to, (row, y) =>
            {
                for (var i = first; i < last; i++)
                {
                    var (colour, alpha) = layer((i + 0.5) / Height, y);
                    if (alpha > 0)
                    {
                        Set(row, i, alpha >= 1 ? colour : Rgb.Lerp(Get(row, i), colour, alpha));
                    }
                }
            });
        }

        /// <summary>Paints water below <paramref name="horizon"/>; the function may sample what is painted above it (bilinear).</summary>
        public void Water(double horizon, Func<double, double, Func<double, double, Rgb>, Rgb> water)
        {
            var limit = horizon - Px;
            Rgb Sample(double x, double y) => Bilinear(x, Math.Min(y, limit));
            Rows(Math.Clamp((int)Math.Ceiling(horizon * Height), 0, Height), Height, (row, y) =>
            {
                for (var i = 0; i < Width; i++)
                {
                    Set(row, i, water((i + 0.5) / Height, y, Sample));
                }
            });
        }

        public float[] NewMask() => new float[Width * Height];

        /// <summary>Adds a capsule (a thick segment with rounded ends, radius varying along it) to a coverage mask.</summary>
        public void Capsule(float[] mask, P a, P b, double ra, double rb)
        {
            ArgumentNullException.ThrowIfNull(mask);
            var pad = Math.Max(ra, rb) + (2 * Px);
            var x0 = Math.Max(0, (int)((Math.Min(a.X, b.X) - pad) * Height));
            var x1 = Math.Min(Width - 1, (int)((Math.Max(a.X, b.X) + pad) * Height));
            var y0 = Math.Max(0, (int)((Math.Min(a.Y, b.Y) - pad) * Height));
            var y1 = Math.Min(Height - 1, (int)((Math.Max(a.Y, b.Y) + pad) * Height));
            double vx = b.X - a.X, vy = b.Y - a.Y;
            var len2 = Math.Max((vx * vx) + (vy * vy), 1e-12);
            for (var row = y0; row <= y1; row++)
            {
                var y = (row + 0.5) / Height;
                for (var i = x0; i <= x1; i++)
                {
                    var x = (i + 0.5) / Height;
                    var t = Math.Clamp((((x - a.X) * vx) + ((y - a.Y) * vy)) / len2, 0, 1);
                    double dx = x - (a.X + (vx * t)), dy = y - (a.Y + (vy * t));
                    var coverage = (float)Cover(ra + ((rb - ra) * t) - Math.Sqrt((dx * dx) + (dy * dy)), Px);
                    var k = (row * Width) + i;
                    if (coverage > mask[k])
                    {
                        mask[k] = coverage;
                    }
                }
            }
        }

        /// <summary>Composites <paramref name="colour"/> where the mask covers.</summary>
        public void Fill(float[] mask, Func<double, double, Rgb> colour)
        {
            ArgumentNullException.ThrowIfNull(mask);
            Rows(0, Height, (row, y) =>
            {
                for (var i = 0; i < Width; i++)
                {
                    var a = mask[(row * Width) + i];
                    if (a > 0)
                    {
                        Set(row, i, Rgb.Lerp(Get(row, i), colour((i + 0.5) / Height, y), a));
                    }
                }
            });
        }

        /// <summary>A soft round dot.</summary>
        public void Dot(double cx, double cy, double radius, Rgb colour, double opacity)
        {
            var pad = radius + (2 * Px);
            for (var row = Math.Max(0, (int)((cy - pad) * Height)); row <= Math.Min(Height - 1, (int)((cy + pad) * Height)); row++)
            {
                for (var i = Math.Max(0, (int)((cx - pad) * Height)); i <= Math.Min(Width - 1, (int)((cx + pad) * Height)); i++)
                {
                    double dx = ((i + 0.5) / Height) - cx, dy = ((row + 0.5) / Height) - cy;
                    var a = Cover(radius - Math.Sqrt((dx * dx) + (dy * dy)), Px) * opacity;
                    if (a > 0)
                    {
                        Set(row, i, Rgb.Lerp(Get(row, i), colour * (0.8 + (0.3 * (dy < 0 ? 1 : 0.6))), a));
                    }
                }
            }
        }

        /// <summary>Scatters stars (additive points, a few brighter with a glow) between two heights.</summary>
        public void Stars(Random random, int count, double top, double bottom, double brightness)
        {
            ArgumentNullException.ThrowIfNull(random);
            for (var s = 0; s < count; s++)
            {
                var x = random.NextDouble() * Aspect;
                var y = top + ((bottom - top) * Math.Pow(random.NextDouble(), 1.3));
                var b = Math.Pow(random.NextDouble(), 3) * brightness;
                var size = Px * (0.6 + (b * 1.5));
                var tint = Rgb.Lerp(new Rgb(0.8, 0.85, 1.0), new Rgb(1.0, 0.92, 0.8), random.NextDouble());
                var row0 = (int)(y * Height);
                var col0 = (int)(x * Height);
                for (var row = row0 - 3; row <= row0 + 3; row++)
                {
                    for (var i = col0 - 3; i <= col0 + 3; i++)
                    {
                        if (row < 0 || row >= Height || i < 0 || i >= Width)
                        {
                            continue;
                        }

                        double dx = ((i + 0.5) / Height) - x, dy = ((row + 0.5) / Height) - y;
                        var a = Math.Exp(-((dx * dx) + (dy * dy)) / (size * size)) * (0.25 + b) * (1 - (y / Math.Max(bottom, 0.01) * 0.5));
                        Set(row, i, Get(row, i) + (tint * a));
                    }
                }
            }
        }

        /// <summary>Vignette, a gentle contrast curve and film grain, optionally mirrored left to right; returns 8-bit RGB.</summary>
        public RgbPixels Finish(int seed, bool mirror = false)
        {
            var data = new byte[Width * Height * 3];
            Rows(0, Height, (row, y) =>
            {
                for (var i = 0; i < Width; i++)
                {
                    var x = (i + 0.5) / Width;
                    double dx = x - 0.5, dy = y - 0.5;
                    var vignette = 1 - (0.28 * Math.Pow(((dx * dx) + (dy * dy)) * 2, 1.5));
                    var c = Get(row, mirror ? Width - 1 - i : i) * vignette;
                    var grain = (Noise.Hash(i, row, seed + _seed) - 0.5) * 0.035;
                    var o = ((row * Width) + i) * 3;
                    data[o] = ToByte(c.R + grain);
                    data[o + 1] = ToByte(c.G + grain);
                    data[o + 2] = ToByte(c.B + grain);
                }
            });
            return new RgbPixels(Width, Height, 3, data);
        }

        private static byte ToByte(double v)
        {
            var t = Math.Clamp(v, 0, 1);
            var curved = t + (0.12 * t * (1 - t) * ((2 * t) - 1));
            return (byte)Math.Round(Math.Clamp(curved, 0, 1) * 255);
        }

        private Rgb Bilinear(double x, double y)
        {
            var fx = Math.Clamp((x * Height) - 0.5, 0, Width - 1.001);
            var fy = Math.Clamp((y * Height) - 0.5, 0, Height - 1.001);
            int i = (int)fx, row = (int)fy;
            double tx = fx - i, ty = fy - row;
            var top = Rgb.Lerp(Get(row, i), Get(row, i + 1), tx);
            var bottom = Rgb.Lerp(Get(row + 1, i), Get(row + 1, i + 1), tx);
            return Rgb.Lerp(top, bottom, ty);
        }

        private Rgb Get(int row, int i)
        {
            var o = ((row * Width) + i) * 3;
            return new Rgb(_rgb[o], _rgb[o + 1], _rgb[o + 2]);
        }

        private void Set(int row, int i, Rgb c)
        {
            var o = ((row * Width) + i) * 3;
            _rgb[o] = (float)c.R;
            _rgb[o + 1] = (float)c.G;
            _rgb[o + 2] = (float)c.B;
        }

        private void Rows(int from, int to, Action<int, double> row) =>
            Parallel.For(from, to, r => row(r, (r + 0.5) / Height));
    }
}
