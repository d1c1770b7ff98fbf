using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Trove.Application.Search;
using Trove.Index.Sqlite;
using Trove.Library;

namespace Trove.Application.Tests;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "trove-app-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Small but real image files, distinct per seed so their SHA-256 differ.</summary>
public static class TestImages
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>A valid RGB PNG whose pixels depend on <paramref name="seed"/>.</summary>
    public static byte[] Png(int seed, int width = 2, int height = 2)
    {
        var raw = new byte[height * ((width * 3) + 1)];
        var i = 0;
        for (var y = 0; y < height; y++)
        {
            raw[i++] = 0; // filter: none
            for (var x = 0; x < width; x++)
            {
                raw[i++] = (byte)(seed & 0xFF);
                raw[i++] = (byte)((seed >> 8) & 0xFF);
                raw[i++] = (byte)((x * 31) + (y * 17) + (seed >> 16));
            }
        }

        return EncodePng(width, height, raw);
    }

    /// <summary>A valid PNG of random (incompressible) pixels, for filling a disk.</summary>
    public static byte[] NoisePng(int seed, int width, int height)
    {
        var random = new Random(seed);
        var raw = new byte[height * ((width * 3) + 1)];
        random.NextBytes(raw);
        for (var y = 0; y < height; y++)
        {
            raw[y * ((width * 3) + 1)] = 0;
        }

        return EncodePng(width, height, raw);
    }

    /// <summary>Starts like a JPEG (import only sniffs the magic bytes); the body depends on the seed.</summary>
    public static byte[] Jpeg(int seed, int bodyLength = 64)
    {
        var bytes = new List<byte> { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00 };
        var random = new Random(seed);
        var body = new byte[bodyLength];
        random.NextBytes(body);
        bytes.AddRange(body);
        bytes.AddRange(BitConverter.GetBytes(seed));
        bytes.Add(0xFF);
        bytes.Add(0xD9);
        return [.. bytes];
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] EncodePng(int width, int height, byte[] raw)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(output, "IHDR", ihdr);

        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                z.Write(raw);
            }

            WriteChunk(output, "IDAT", compressed.ToArray());
        }

        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = Crc32([.. typeBytes, .. data]);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        output.Write(crcBytes);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

/// <summary>A library in a temp folder, opened with real SQLite, plus a folder of source files to import.</summary>
public sealed class TestLibrary : IAsyncDisposable
{
    private readonly TempDirectory? _temp;
    private TimeProvider? _clock;
    private bool _imaging;

    private TestLibrary(TempDirectory? temp, string root, string sources, TroveLibrary library)
    {
        _temp = temp;
        Root = root;
        Sources = sources;
        Library = library;
    }

    public string Root { get; }

    /// <summary>A folder outside the library for files to import.</summary>
    public string Sources { get; }

    public TroveLibrary Library { get; private set; }

    public LibraryLayout Layout => Library.Layout;

    public MediaService Media => new(Library);

    public TagService Tags => new(Library);

    public CaptionService Captions => new(Library);

    public CollectionService Collections => new(Library);

    public SearchService Search => new(Library);

    public CheckService Check => new(Library);

    public static CancellationToken Ct => CancellationToken.None;

    /// <summary>One real libvips engine for the whole test run (libvips initialises once per process).</summary>
    public static readonly Lazy<Trove.Application.Ports.IImageEngine> Vips = new(() => Trove.Imaging.Vips.VipsImageEngine.Create(new Trove.Imaging.Vips.VipsOptions()));

    public static LibraryEnvironment Environment(TroveOptions? options = null, bool imaging = false) =>
        LibraryEnvironment.Create(new SqliteIndexFactory(), new SqliteStateStoreFactory(), options ?? new TroveOptions { Durability = Durability.Fast }) is var env && imaging
            ? env with { Imaging = Vips.Value }
            : env;

    /// <summary>A library whose pixel work runs on the real libvips engine.</summary>
    public static Task<TestLibrary> CreateWithImagingAsync(TroveOptions? options = null) => CreateAsync(options, null, imaging: true);

    public static async Task<TestLibrary> CreateAsync(TroveOptions? options = null, TimeProvider? clock = null, bool imaging = false)
    {
        var temp = new TempDirectory();
        var root = temp.Combine("library");
        var sources = temp.Combine("sources");
        Directory.CreateDirectory(sources);
        var env = Environment(options, imaging);
        if (clock is not null)
        {
            env = env with { Time = clock };
        }

        TroveLibrary.Init(root, env);
        var library = await TroveLibrary.OpenAsync(root, env, null, Ct);
        return new TestLibrary(temp, root, sources, library) { _clock = clock, _imaging = imaging };
    }

    /// <summary>A library in a folder owned by the caller (e.g. on a special mount).</summary>
    public static async Task<TestLibrary> CreateAtAsync(string root, string sources, TroveOptions? options = null)
    {
        var env = Environment(options);
        TroveLibrary.Init(root, env);
        Directory.CreateDirectory(sources);
        var library = await TroveLibrary.OpenAsync(root, env, null, Ct);
        return new TestLibrary(null, root, sources, library);
    }

    public async Task ReopenAsync(TroveOptions? options = null, bool? imaging = null)
    {
        await Library.DisposeAsync();
        _imaging = imaging ?? _imaging;
        var env = Environment(options, _imaging);
        Library = await TroveLibrary.OpenAsync(Root, _clock is null ? env : env with { Time = _clock }, null, Ct);
    }

    public async Task CloseAsync() => await Library.DisposeAsync();

    public async Task<TroveLibrary> OpenSecondAsync(TroveOptions? options = null) =>
        await TroveLibrary.OpenAsync(Root, Environment(options, _imaging), null, Ct);

    /// <summary>Writes a source file and returns its path.</summary>
    public string WriteSource(string relativePath, byte[] content)
    {
        var path = Path.Combine(Sources, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Imports one freshly generated PNG per seed; returns the ids in seed order.</summary>
    public async Task<List<string>> ImportPngsAsync(IEnumerable<int> seeds, params string[] tags)
    {
        var ids = new List<string>();
        foreach (var seed in seeds)
        {
            ids.Add(await ImportOneAsync(TestImages.Png(seed), $"img-{seed}.png", tags));
        }

        return ids;
    }

    public async Task<string> ImportOneAsync(byte[] content, string name, IReadOnlyList<string>? tags = null, string? collection = null)
    {
        var path = WriteSource(Guid.NewGuid().ToString("N")[..8] + "/" + name, content);
        var report = await Media.ImportAsync([path], new ImportOptions(tags ?? [], collection, DryRun: false), null, Ct);
        Assert.Empty(report.Failed);
        return Assert.Single(report.Media);
    }

    /// <summary>Writes a source file with <paramref name="write"/> (e.g. a real image through libvips) and imports it.</summary>
    public async Task<string> ImportFileAsync(string name, Action<string> write)
    {
        var path = Path.Combine(Sources, Guid.NewGuid().ToString("N")[..8], name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        write(path);
        var report = await Media.ImportAsync([path], new ImportOptions([], null, false), null, Ct);
        Assert.Empty(report.Failed);
        return Assert.Single(report.Media);
    }

    public string SidecarPath(string id, bool trash = false) => Layout.SidecarPath(id, trash);

    public string OriginalPath(string id, string ext = "png", bool trash = false) => Layout.OriginalPath(id, ext, trash);

    public Domain.MediaSidecar ReadSidecar(string id) => Library.Files.ReadSidecar(id).Sidecar;

    public List<string> TagsOf(string id) => ReadSidecar(id).Tags.Select(t => t.Name).ToList();

    /// <summary>Edits a sidecar as JSON text (as a person with an editor would), keeping it valid.</summary>
    public void EditSidecarJson(string id, Action<JsonObject> edit, bool trash = false)
    {
        var path = SidecarPath(id, trash);
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(node);
        File.WriteAllText(path, node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public async Task<List<string>> SearchIdsAsync(string query, int limit = 100)
    {
        var result = await Search.SearchAsync(query, limit, 0, Ct);
        return [.. result.Ids];
    }

    public async ValueTask DisposeAsync()
    {
        await Library.DisposeAsync();
        _temp?.Dispose();
    }
}

/// <summary>A wall clock that moves one second forward on every reading, so creation order is unambiguous.</summary>
public sealed class SteppingClock : TimeProvider
{
    private long _ticks = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, TimeSpan.TicksPerSecond), TimeSpan.Zero);
}

/// <summary>Content snapshot of a folder tree: relative path → SHA-256 (directories as "dir").</summary>
public static class FileTree
{
    public static SortedDictionary<string, string> Snapshot(string root, Func<string, bool>? include = null)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, entry);
            if (include is not null && !include(relative))
            {
                continue;
            }

            result[relative] = Directory.Exists(entry) ? "dir" : TestImages.Sha256(File.ReadAllBytes(entry));
        }

        return result;
    }

    /// <summary>Everything people's data lives in: media, trash, collections, vocabulary, manifest.</summary>
    public static SortedDictionary<string, string> LibraryData(string root) =>
        Snapshot(root, r => r.StartsWith("media", StringComparison.Ordinal)
            || r.StartsWith("trash", StringComparison.Ordinal)
            || r.StartsWith("collections", StringComparison.Ordinal)
            || r == LibraryLayout.VocabularyFileName
            || r == LibraryLayout.ManifestFileName);

    public static List<string> Files(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal).ToList()
            : [];
}

/// <summary>Runs system commands (mount, umount, chattr).</summary>
public static class Shell
{
    public static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }

    public static void MustRun(string file, params string[] args)
    {
        var (code, output) = Run(file, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({code}): {output}");
        }
    }
}
