using Trove.Domain;

namespace Trove.Domain.Tests;

public class MediaIdTests
{
    private const string Valid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void IsValid_accepts_64_lowercase_hex_characters()
    {
        Assert.Equal(MediaId.Length, Valid.Length);
        Assert.True(MediaId.IsValid(Valid));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0123456789abcdef")]
    [InlineData("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
    [InlineData(" 123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void IsValid_refuses_anything_else(string? value)
    {
        Assert.False(MediaId.IsValid(value));
    }

    [Theory]
    [InlineData("abcdef", "abcdef")]
    [InlineData("ABCDEF", "abcdef")]
    [InlineData("  AbC123  ", "abc123")]
    [InlineData("0123456789", "0123456789")]
    public void NormalizePrefix_trims_and_lowercases(string raw, string expected)
    {
        Assert.Equal(expected, MediaId.NormalizePrefix(raw));
    }

    [Fact]
    public void NormalizePrefix_accepts_a_full_id()
    {
        Assert.Equal(Valid, MediaId.NormalizePrefix(Valid.ToUpperInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abcde")]
    [InlineData("  abcde  ")]
    [InlineData("abcdeg")]
    [InlineData("abc def")]
    [InlineData("xyz123456")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")]
    public void NormalizePrefix_refuses_short_long_or_non_hex_input(string raw)
    {
        var ex = Assert.Throws<TroveUsageException>(() => MediaId.NormalizePrefix(raw));
        Assert.Equal("invalid-id", ex.Code);
        Assert.True(ex.IsUsageError);
        Assert.Contains($"'{raw}'", ex.Message);
        Assert.Contains(MediaId.MinPrefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        Assert.NotNull(ex.Hint);
    }

    [Fact]
    public void NormalizePrefix_refuses_null()
    {
        Assert.Throws<ArgumentNullException>(() => MediaId.NormalizePrefix(null!));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("0123456789abcdef", true)]
    [InlineData("A", false)]
    [InlineData("g", false)]
    public void IsLowerHex_checks_every_character(string value, bool expected)
    {
        Assert.Equal(expected, MediaId.IsLowerHex(value));
    }
}
