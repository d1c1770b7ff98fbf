namespace Trove.Domain;

/// <summary>
/// An error a user can act on. <see cref="Code"/> is a stable kebab-case identifier for scripts;
/// <see cref="Message"/> says what is wrong (which file, line, term) and <see cref="Hint"/> what to do.
/// </summary>
public class TroveException : Exception
{
    public TroveException(string code, string message, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Hint = hint;
    }

    public string Code { get; }

    public string? Hint { get; }

    /// <summary>True when the error is caused by how the command was called (exit code 2).</summary>
    public virtual bool IsUsageError => false;
}

/// <summary>Bad input from the caller: a malformed id, tag name, rectangle, query term.</summary>
public sealed class TroveUsageException(string code, string message, string? hint = null)
    : TroveException(code, message, hint)
{
    public override bool IsUsageError => true;
}
