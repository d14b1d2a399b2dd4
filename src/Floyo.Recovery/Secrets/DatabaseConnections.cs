using Floyo.Recovery.Configuration;
using Floyo.Recovery.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Floyo.Recovery.Secrets;

/// <summary>
/// The engine's connections. In Azure DATABASE_URL carries no password: it is read from the secret store
/// (DATABASE_PASSWORD_SECRET) on every use, so a rotated password is picked up without a restart. A
/// password written in the URL wins; a secret in our JSON credential form supplies the user name too.
/// </summary>
public sealed class DatabaseConnections(IOptions<DatabaseOptions> database, IOptions<SecretOptions> secrets, ISecretStore store)
{
    public Task<NpgsqlConnectionStringBuilder> DatabaseAsync(CancellationToken ct) =>
        CompleteAsync(DatabaseUrl.Parse(database.Value.DatabaseUrl), secrets.Value.DatabasePasswordSecret, "DATABASE_PASSWORD_SECRET", ct);

    /// <summary>VERIFY_DATABASE_URL (with its own secret) when set, else the database server itself.</summary>
    public Task<NpgsqlConnectionStringBuilder> VerificationServerAsync(CancellationToken ct) =>
        string.IsNullOrWhiteSpace(database.Value.VerifyDatabaseUrl)
            ? DatabaseAsync(ct)
            : CompleteAsync(DatabaseUrl.Parse(database.Value.VerifyDatabaseUrl, "VERIFY_DATABASE_URL"), secrets.Value.VerifyDatabasePasswordSecret, "VERIFY_DATABASE_PASSWORD_SECRET", ct);

    private async Task<NpgsqlConnectionStringBuilder> CompleteAsync(NpgsqlConnectionStringBuilder builder, string? secretName, string setting, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(builder.Password) || string.IsNullOrWhiteSpace(secretName))
        {
            return builder;
        }
        var secret = await store.GetCurrentAsync(secretName, ct)
            ?? throw new ConfigurationException($"{setting} names secret '{secretName}', which is not in {store.Location}");
        if (DatabaseCredential.TryParse(secret.Value, out var credential))
        {
            builder.Username = credential!.Username;
            builder.Password = credential.Password;
        }
        else
        {
            // A trailing newline is a common accident of `az keyvault secret set --file`; other whitespace is kept.
            builder.Password = secret.Value.TrimEnd('\r', '\n');
        }
        return builder;
    }
}
