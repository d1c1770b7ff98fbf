namespace Trove.Providers.Http;
