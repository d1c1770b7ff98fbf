using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Trove.Domain;

namespace Trove.Server;

/// <summary>
/// The server could not listen on <see cref="Url"/> because another program (often another Trove) already does.
/// <see cref="SuggestedUrl"/> is the same address on the next port.
/// </summary>
public sealed class ServerAddressInUseException : TroveException
{
    public const string ErrorCode = "address-in-use";

    public ServerAddressInUseException(string url, string host, int port, string suggestedUrl, Exception? inner = null)
        : base(ErrorCode, $"Port {port} on {host} is already in use (another Trove or program is listening there).", null, inner)
    {
        Url = url;
        Host = host;
        Port = port;
        SuggestedUrl = suggestedUrl;
    }

    public string Url { get; }

    public string Host { get; }

    public int Port { get; }

    public string SuggestedUrl { get; }

    /// <summary>
    /// When <paramref name="failure"/> (from starting Kestrel on <paramref name="urls"/>, separated by ';') is an address
    /// already in use, the address it was; otherwise null.
    /// </summary>
    public static ServerAddressInUseException? From(string urls, Exception failure)
    {
        ArgumentNullException.ThrowIfNull(urls);
        if (!IsAddressInUse(failure))
        {
            return null;
        }

        var addresses = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Parse).OfType<BindingAddress>().Where(a => a.Port > 0).ToList();
        // Kestrel names the address it failed on ("Failed to bind to address http://127.0.0.1:5080: …").
        var busy = addresses.FirstOrDefault(a => failure.Message.Contains($"{a.Host}:{a.Port}", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault();
        if (busy is null)
        {
            return null;
        }

        var host = busy.Host is "*" or "+" or "0.0.0.0" or "[::]" ? "all addresses" : busy.Host;
        var next = busy.Port < 65535 ? busy.Port + 1 : busy.Port - 1;
        return new ServerAddressInUseException($"{busy.Scheme}://{busy.Host}:{busy.Port}", host, busy.Port, $"{busy.Scheme}://{busy.Host}:{next}", failure);
    }

    private static bool IsAddressInUse(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is Microsoft.AspNetCore.Connections.AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private static BindingAddress? Parse(string url)
    {
        try
        {
            return BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
