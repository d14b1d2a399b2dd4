using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Rotation;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Secrets;

/// <summary>DATABASE_URL without a password, the password in the store: the engine's own connections work.</summary>
public sealed class DatabaseConnectionsTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly string _role = $"fdr_eng_{Guid.NewGuid():N}"[..24];
    private readonly string _password = RandomSecret.Create();
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        await LoginRolesForTests.CreateAsync(admin, $"CREATE ROLE {_role} LOGIN SUPERUSER PASSWORD {PgConnector.Literal(ScramVerifier.Compute(_password))}");
        await _db.ExecuteAsync("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 50)");
    }

    private string UrlWithoutPassword(string? user = null) =>
        $"postgresql://{user ?? _role}@{TestServers.Primary.Host}:{TestServers.Primary.Port}/{_db.Name}";

    private Dictionary<string, string?> Settings(string url) => new()
    {
        ["DATABASE_URL"] = url,
        ["DATABASE_PASSWORD_SECRET"] = "floyo-dr-db",
        ["FLOYO_SECRETS_FILE"] = Path.Combine(_dir.Path, "secrets.json"),
        ["BACKUP_DIR"] = Path.Combine(_dir.Path, "backups"),
        ["FLOYO_WORK_DIR"] = Path.Combine(_dir.Path, "work"),
    };

    [Fact]
    public async Task A_backup_runs_with_the_password_taken_from_the_store()
    {
        var settings = Settings(UrlWithoutPassword());
        await using var engine = Engine.Create(settings);
        await engine.GetRequiredService<ISecretStore>().SetAsync("floyo-dr-db", _password, new Dictionary<string, string>(), null, default);

        var result = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        Assert.Equal(50, result.Metadata.Facts.Tables.Single(t => t.Name == "t").Rows);
    }

    [Fact]
    public async Task A_json_credential_supplies_user_and_password()
    {
        await using var engine = Engine.Create(Settings(UrlWithoutPassword(user: "nobody_in_particular")));
        await engine.GetRequiredService<ISecretStore>().SetAsync("floyo-dr-db", new DatabaseCredential(_role, _password).ToJson(), new Dictionary<string, string>(), DatabaseCredential.ContentType, default);

        var builder = await engine.GetRequiredService<DatabaseConnections>().DatabaseAsync(default);
        Assert.Equal(_role, builder.Username);
        await using var connection = await PgConnector.OpenAsync(builder, default);
    }

    [Fact]
    public async Task A_password_in_the_url_wins_and_a_missing_secret_is_one_clear_line()
    {
        await using (var engine = Engine.Create(Settings(TestServers.Url(TestServers.Primary, _db.Name))))
        {
            // The secret does not exist, but the URL has a password: the store is not consulted.
            var builder = await engine.GetRequiredService<DatabaseConnections>().DatabaseAsync(default);
            Assert.Equal(TestServers.Primary.Password, builder.Password);
        }
        await using (var engine = Engine.Create(Settings(UrlWithoutPassword())))
        {
            var error = await Assert.ThrowsAnyAsync<RecoveryException>(() => engine.GetRequiredService<DatabaseConnections>().DatabaseAsync(default));
            Assert.Equal($"DATABASE_PASSWORD_SECRET names secret 'floyo-dr-db', which is not in file {Path.Combine(_dir.Path, "secrets.json")}", error.Message);
        }
    }

    [Fact]
    public async Task The_cli_reads_the_password_from_the_store_too()
    {
        var settings = Settings(UrlWithoutPassword());
        await using (var engine = Engine.Create(settings))
        {
            await engine.GetRequiredService<ISecretStore>().SetAsync("floyo-dr-db", _password, new Dictionary<string, string>(), null, default);
        }
        var backup = await FloyoDr.RunAsync(settings, "backup", "--full");
        Assert.True(backup.ExitCode == 0, backup.All);
        Assert.DoesNotContain(_password, backup.All, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await using var admin = await PgConnector.OpenAsync(TestServers.Primary, default);
        await LoginRolesForTests.DropAsync(admin, _role);
        _dir.Dispose();
    }
}
