namespace Trove.Server;

/// <summary>
/// Settings of the HTTP face (environment: <c>TROVE_Server__Name=value</c>, e.g. <c>TROVE_Server__AnonymousRead=true</c>).
/// See docs/api.md ("Configuration").
/// </summary>
public sealed class ServerSettings
{
    public const string SectionName = "Server";

    /// <summary>Where to listen. Loopback by default: exposing Trove to a network is something the user says.</summary>
    public string Urls { get; set; } = TroveServer.DefaultUrl;

    /// <summary>Lets people who are not signed in search and view (read-only). Off by default.</summary>
    public bool AnonymousRead { get; set; }

    /// <summary>The model listing (GET /api/models) is public unless this is false.</summary>
    public bool ModelsPublic { get; set; } = true;

    /// <summary>Largest single uploaded file, in bytes (default 200 MB).</summary>
    public long MaxUploadFileBytes { get; set; } = 200L << 20;

    /// <summary>Largest upload request (all its files together), in bytes (default 1 GB).</summary>
    public long MaxUploadRequestBytes { get; set; } = 1L << 30;

    /// <summary>Most files in one upload request.</summary>
    public int MaxUploadFiles { get; set; } = 100;

    /// <summary>Sign-in attempts per client address per minute.</summary>
    public int LoginPerMinute { get; set; } = 10;

    /// <summary>Upload requests per account per minute.</summary>
    public int UploadsPerMinute { get; set; } = 60;

    /// <summary>How long a browser session lasts without use.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Send cookies only over HTTPS. Set it when Trove is behind a TLS proxy.</summary>
    public bool SecureCookies { get; set; }

    /// <summary>Log level of the server (Warning by default; Information logs each request's outcome).</summary>
    public string LogLevel { get; set; } = "Warning";
}
