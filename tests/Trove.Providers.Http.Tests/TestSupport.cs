using Trove.Application.Providers;
using Trove.Domain.Models;
using Trove.Testing;

namespace Trove.Providers.Http.Tests;

/// <summary>Providers pointed at a fake server, a real JPEG to send, and a deadline so no test can hang.</summary>
internal static class TestSupport
{
    private static readonly Lazy<byte[]> Photo = new(() => Encode("jpg", path => TestImages.WriteJpeg(path, TestImages.Photo(7, 64, 48), quality: 85)));

    private static readonly Lazy<byte[]> Upscaled = new(() => Encode("png", path => TestImages.WritePng(path, TestImages.Photo(7, 128, 96))));

    private static readonly Lazy<byte[]> UpscaledWebp = new(() => Encode("webp", path => TestImages.WriteWebp(path, TestImages.Photo(7, 128, 96))));

    private static readonly Lazy<byte[]> UpscaledJpeg = new(() => Encode("jpg", path => TestImages.WriteJpeg(path, TestImages.Photo(7, 128, 96))));

    /// <summary>A real 64×48 JPEG (libvips).</summary>
    public static RemoteImage Image => new(Photo.Value, "image/jpeg", 64, 48);

    /// <summary>A real 128×96 PNG (libvips): what an upscaler answers.</summary>
    public static byte[] Png => Upscaled.Value;

    public static byte[] Webp => UpscaledWebp.Value;

    public static byte[] Jpeg => UpscaledJpeg.Value;

    public static TransformRequest Transform(string? prompt = null, IReadOnlyDictionary<string, string>? parameters = null) => new(Image, prompt, parameters);

    private static byte[] Encode(string extension, Action<string> write)
    {
        var path = Path.Combine(Path.GetTempPath(), $"trove-provider-test-{Guid.NewGuid():n}.{extension}");
        try
        {
            write(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static CaptionRequest Caption(string prompt = "Describe this image in one sentence.", int maxTokens = 77, double temperature = 0.2) =>
        new(Image, prompt, maxTokens, temperature);

    public static ClassifyRequest Classify(string prompt = "List the tags that describe this image.", int maxTokens = 200) => new(Image, prompt, maxTokens);

    /// <summary>
    /// An OpenAI-compatible provider at the fake. Its timeout is the longest allowed unless set: on a sped-up clock a
    /// short one could fire on a slow machine in tests that are not about timeouts.
    /// </summary>
    public static ProviderDefinition OpenAi(FakeProviderServer fake, Action<ProviderDefinition>? configure = null) =>
        Provider(ProviderKinds.OpenAi, fake.OpenAiUrl, "qwen2-vl-7b", configure);

    public static ProviderDefinition Hf(FakeProviderServer fake, Action<ProviderDefinition>? configure = null) =>
        Provider(ProviderKinds.HfInference, fake.HfUrl, "Salesforce/blip-image-captioning-large", configure);

    public static ProviderDefinition Provider(string kind, string url, string model, Action<ProviderDefinition>? configure = null)
    {
        var provider = new ProviderDefinition
        {
            Name = "test-" + Guid.NewGuid().ToString("n")[..12],
            Kind = kind,
            Url = url,
            Model = model,
            TimeoutSeconds = 3600,
            MaxConcurrency = 4,
            MaxAttempts = 4,
        };
        configure?.Invoke(provider);
        return provider;
    }

    /// <summary>A deadline for one test (real time): a hang fails the test instead of the run.</summary>
    public static CancellationToken Deadline(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>A loopback port nothing listens on.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>A fake server, a sped-up clock and a client on it, per test.</summary>
public sealed class Harness : IAsyncDisposable
{
    private Harness(FakeProviderServer fake, FastClock clock, LogCapture logs, HttpRemoteModels models)
    {
        Fake = fake;
        Clock = clock;
        Logs = logs;
        Models = models;
    }

    public FakeProviderServer Fake { get; }

    public FastClock Clock { get; }

    public LogCapture Logs { get; }

    public HttpRemoteModels Models { get; }

    public static async Task<Harness> StartAsync(double speed = 20)
    {
        var clock = new FastClock(speed);
        var fake = await FakeProviderServer.StartAsync(clock);
        var logs = new LogCapture();
        return new Harness(fake, clock, logs, HttpRemoteModels.Create(logs.Factory, clock));
    }

    public async ValueTask DisposeAsync()
    {
        Models.Dispose();
        Logs.Factory.Dispose();
        await Fake.DisposeAsync();
    }
}
