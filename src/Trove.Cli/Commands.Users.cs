using System.CommandLine;
using Trove.Application.Accounts;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove users add|list|role|passwd|disable|enable|remove|token|tokens|revoke — accounts of the server.</summary>
        public Command Users()
        {
            var cmd = new Command("users", "Accounts that can sign in to the server, and their API tokens");

            var name = new Argument<string>("NAME");
            var role = new Option<string>("--role") { Description = "admin, moderator, member or viewer", DefaultValueFactory = _ => "member" };
            var password = new Option<string?>("--password") { Description = "Also set a password for the web UI (otherwise the account has only its API token)" };
            var add = new Command("add", "Create an account; prints its first API token once") { name, role, password };
            add.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var accounts = new AccountService(library!);
                var user = await accounts.CreateAsync(p.GetValue(name)!, Roles.Parse(p.GetValue(role)!), p.GetValue(password), ct).ConfigureAwait(false);
                var token = await accounts.IssueTokenAsync(user.Id, "first", ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { user = UserJson(user), token = token.Secret, tokenId = token.Token.Id },
                    w =>
                    {
                        w.WriteLine($"Created {Roles.Name(user.Role)} '{user.Name}'.");
                        w.WriteLine($"API token (shown only now): {token.Secret}");
                        w.WriteLine("Use it as: Authorization: Bearer <token>");
                    });
                return 0;
            }));
            cmd.Subcommands.Add(add);

            var list = new Command("list", "List accounts");
            list.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var users = await new AccountService(library!).ListAsync(ct).ConfigureAwait(false);
                ctx.Output.Result(new { users = users.Select(UserJson) }, w =>
                {
                    foreach (var u in users)
                    {
                        w.WriteLine($"{u.Name,-24} {Roles.Name(u.Role),-10} {(u.Disabled ? "disabled" : string.Empty)}");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(list);

            var newRole = new Argument<string>("ROLE") { Description = "admin, moderator, member or viewer" };
            var setRole = new Command("role", "Change an account's role") { name, newRole };
            setRole.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var user = await new AccountService(library!).SetRoleAsync(p.GetValue(name)!, Roles.Parse(p.GetValue(newRole)!), ct).ConfigureAwait(false);
                ctx.Output.Result(new { user = UserJson(user) }, w => w.WriteLine($"'{user.Name}' is now {Roles.Name(user.Role)}."));
                return 0;
            }));
            cmd.Subcommands.Add(setRole);

            var newPassword = new Option<string?>("--password") { Description = "The new password (default: generate one and print it)" };
            var passwd = new Command("passwd", "Set an account's password (ends its browser sessions)") { name, newPassword };
            passwd.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var given = p.GetValue(newPassword);
                var value = given ?? PasswordHasher.Generate();
                var user = await new AccountService(library!).SetPasswordAsync(p.GetValue(name)!, value, ct).ConfigureAwait(false);
                ctx.Output.Result(new { user = UserJson(user), password = given is null ? value : null }, w =>
                    w.WriteLine(given is null ? $"New password for '{user.Name}' (shown only now): {value}" : $"Password of '{user.Name}' changed."));
                return 0;
            }));
            cmd.Subcommands.Add(passwd);

            foreach (var (verb, disabled) in new[] { ("disable", true), ("enable", false) })
            {
                var toggle = new Command(verb, disabled ? "Stop an account from signing in (its tokens stop working too)" : "Let a disabled account sign in again") { name };
                toggle.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
                {
                    var user = await new AccountService(library!).SetDisabledAsync(p.GetValue(name)!, disabled, ct).ConfigureAwait(false);
                    ctx.Output.Result(new { user = UserJson(user) }, w => w.WriteLine($"'{user.Name}' is {(disabled ? "disabled" : "enabled")}."));
                    return 0;
                }));
                cmd.Subcommands.Add(toggle);
            }

            var remove = new Command("remove", "Delete an account and its tokens") { name };
            remove.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                await new AccountService(library!).DeleteAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { removed = p.GetValue(name) }, w => w.WriteLine($"Removed '{p.GetValue(name)}'."));
                return 0;
            }));
            cmd.Subcommands.Add(remove);

            var tokenName = new Option<string>("--name") { Description = "What the token is for", DefaultValueFactory = _ => "cli" };
            var token = new Command("token", "Create an API token for an account; prints it once") { name, tokenName };
            token.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var accounts = new AccountService(library!);
                var user = await accounts.GetAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
                var issued = await accounts.IssueTokenAsync(user.Id, p.GetValue(tokenName)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { id = issued.Token.Id, name = issued.Token.Name, token = issued.Secret }, w => w.WriteLine($"API token #{issued.Token.Id} for '{user.Name}' (shown only now): {issued.Secret}"));
                return 0;
            }));
            cmd.Subcommands.Add(token);

            var tokens = new Command("tokens", "List an account's API tokens") { name };
            tokens.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var accounts = new AccountService(library!);
                var user = await accounts.GetAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
                var all = await accounts.ListTokensAsync(user.Id, ct).ConfigureAwait(false);
                ctx.Output.Result(new { tokens = all.Select(t => new { id = t.Id, name = t.Name, prefix = t.Prefix, createdAt = t.CreatedAt, lastUsedAt = t.LastUsedAt, revokedAt = t.RevokedAt }) }, w =>
                {
                    foreach (var t in all)
                    {
                        w.WriteLine($"#{t.Id,-4} {t.Prefix}…  {t.Name,-20} {(t.RevokedAt is null ? "live" : "revoked")}  last used {t.LastUsedAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "never"}");
                    }
                });
                return 0;
            }));
            cmd.Subcommands.Add(tokens);

            var tokenId = new Argument<long>("TOKEN_ID");
            var revoke = new Command("revoke", "Revoke an API token by its number") { tokenId };
            revoke.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                await new AccountService(library!).RevokeTokenAsync(p.GetValue(tokenId), null, ct).ConfigureAwait(false);
                ctx.Output.Result(new { revoked = p.GetValue(tokenId) }, w => w.WriteLine($"Token #{p.GetValue(tokenId)} revoked."));
                return 0;
            }));
            cmd.Subcommands.Add(revoke);
            return cmd;
        }

        private static object UserJson(UserAccount u) => new { id = u.Id, name = u.Name, role = Roles.Name(u.Role), createdAt = u.CreatedAt, disabled = u.Disabled };
    }
}
