namespace Trove.Providers.Http;

/// <summary>The image <c>providers test</c> sends: a 32×32 mid-grey baseline JPEG (YCbCr, 176 bytes), made by hand.</summary>
internal static class ProbeImage
{
    public const int Size = 32;

    private const string Base64 =
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/" +
        "wAARCAAgACADAREAAhEAAxEA/8QAJgABAAAAAAAAAAAAAAAAAAAAABABAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACAAMAAD8AAAAAAAAAAAAAAAAA/9k=";

    /// <summary>A fresh copy of the bytes.</summary>
    public static byte[] Jpeg() => Convert.FromBase64String(Base64);
}
